"""`make run`: the API on localhost over an in-memory DynamoDB (moto's server), with tables
created from `infra/database.yaml`, every email it sends printed, and, optionally, demo data."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from typing import TYPE_CHECKING

import uvicorn
from moto.core import DEFAULT_ACCOUNT_ID

from devstack import mailbox
from devstack.aws import LocalAws, aws_environment, deploy_database_stack

if TYPE_CHECKING:
    from service.bootstrap import Services

DEMO_PASSWORD = "demo-password-123"
# uvicorn's default HTTP parser (httptools) reads a request's head without bound: an 8 MB
# header and 100,000 headers were accepted. h11 with a limit on the whole head (request line
# and headers) refuses both with a 400 before the app sees them, as API Gateway's own
# limits do when deployed.
MAX_HEAD_BYTES = 16 * 1024
SERVER_LIMITS = {"http": "h11", "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
SERVER_LIMITS_CLI = ["--http", "h11", "--h11-max-incomplete-event-size", str(MAX_HEAD_BYTES)]
DEMO_USERS = {
    "borrower": ("Dana Borrower", "dana@example.com"),
    "lender": ("Lee Lender", "lee@example.com"),
    "both": ("Sam Both", "sam@example.com"),
}


def local_environment(
    endpoint_url: str, outputs: dict[str, str] | None = None, app_base_url: str = "http://localhost:3000"
) -> dict[str, str]:
    """Settings for a local run over the local database stack (its `outputs`, if at hand); a
    fresh JWT secret each time (the data is in memory too)."""
    bucket = (outputs or {}).get("DocumentsBucketName", f"marketplace-local-documents-{DEFAULT_ACCOUNT_ID}")
    return {
        **aws_environment(endpoint_url),
        "TABLE_PREFIX": "marketplace-local",
        "DOCUMENTS_BUCKET": bucket,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "EMAIL_SENDER": mailbox.LOCAL_SENDER,
        "APP_BASE_URL": app_base_url,
        "CORS_ALLOWED_ORIGINS": os.environ.get("CORS_ALLOWED_ORIGINS", "http://localhost:3000"),
        "VALIDATE_RESPONSES": "true",
        "BCRYPT_ROUNDS": os.environ.get("BCRYPT_ROUNDS", "12"),
    }


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread on a free port of 127.0.0.1.

    The socket listens before the server starts, so early connections wait in its backlog
    instead of failing: no readiness polling is needed.
    """

    def __init__(self, app) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", server_header=False, **SERVER_LIMITS)
        )
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def seed_demo_data(services: Services) -> None:
    """Three verified users and two loans, made through the service's own use cases; each
    user verifies with the token from the email moto's SES received, as a person would."""
    users = {}
    for role, (name, email) in DEMO_USERS.items():
        services.accounts.register(name, email, DEMO_PASSWORD)
        users[role] = services.verification.verify(mailbox.verification_token(email)).user
    services.loans.create(
        users["borrower"].user_id,
        {
            "amount": 12000,
            "interest_rate": 7.25,
            "term": "24 months",
            "purpose": "Food truck",
            "description": "Second-hand truck and kitchen fit-out.",
            "lenders": [
                {"email": users["lender"].email, "contribution_amount": 8000},
                {"email": users["both"].email, "contribution_amount": 6000},
                {"email": "not-yet-registered@example.com", "contribution_amount": 4000},
            ],
        },
    )
    services.loans.create(
        users["both"].user_id,
        {
            "amount": 2500,
            "interest_rate": 5,
            "term": "6 months",
            "purpose": "Laptop",
            "lenders": [{"email": users["lender"].email, "contribution_amount": 2500}],
        },
    )


def run(host: str, port: int, aws_port: int, demo: bool) -> None:
    from devstack.pages import with_local_pages

    base = f"http://{host}:{port}"
    with LocalAws(port=aws_port) as aws:
        outputs = deploy_database_stack(aws.endpoint_url)
        mailbox.verify_sender(aws.endpoint_url)
        os.environ.update(local_environment(aws.endpoint_url, outputs, app_base_url=base))
        from devstack.workers import LocalWorkers
        from service.bootstrap import bootstrap
        from service.http.app import create_app

        services = bootstrap()
        app = create_app(services)
        if demo:
            seed_demo_data(services)
        workers = LocalWorkers(services, aws.endpoint_url).start()
        mailbox.echo_to_console()
        print(f"\nLending marketplace API: {base}")
        print(f"  Swagger UI:   {base}/ui/")
        print(f"  OpenAPI spec: {base}/openapi.json")
        print(f"  DynamoDB (moto, in memory; gone when this stops): {aws.endpoint_url}")
        print("  Emails are printed here; their links open local pages that call the API.")
        if demo:
            print(
                f"  Demo logins (password '{DEMO_PASSWORD}', verified): "
                + ", ".join(email for _, email in DEMO_USERS.values())
            )
        print("Press Ctrl-C to stop.\n", flush=True)
        try:
            uvicorn.run(
                with_local_pages(app),
                host=host,
                port=port,
                log_level="warning",
                lifespan="off",
                server_header=False,
                **SERVER_LIMITS,
            )
        finally:
            workers.stop()
