"""`make run`: the API on localhost over an in-memory DynamoDB (moto's server), with tables
created from `infra/database.yaml` and, optionally, demo data."""

from __future__ import annotations

import os
import secrets
import socket
import threading

import uvicorn

from devstack.aws import LocalAws, aws_environment, deploy_database_stack

DEMO_PASSWORD = "demo-password-123"
DEMO_USERS = {
    "borrower": ("Dana Borrower", "dana@example.com"),
    "lender": ("Lee Lender", "lee@example.com"),
    "both": ("Sam Both", "sam@example.com"),
}


def local_environment(endpoint_url: str) -> dict[str, str]:
    """Settings for a local run; a fresh JWT secret each time (the data is in memory too)."""
    return {
        **aws_environment(endpoint_url),
        "TABLE_PREFIX": "marketplace-local",
        "JWT_SECRET": secrets.token_urlsafe(48),
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
            uvicorn.Config(app, log_level="warning", lifespan="off", server_header=False)
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def seed_demo_data() -> None:
    """Three users and two loans, made through the service's own use cases."""
    from service import context
    from service.usecases import accounts, lending

    store, config = context.store(), context.settings()
    users = {
        role: accounts.register(store, config, name, email, DEMO_PASSWORD).user
        for role, (name, email) in DEMO_USERS.items()
    }
    lending.create_loan(store, users["borrower"].user_id, {
        "amount": 12000, "interest_rate": 7.25, "term": "24 months", "purpose": "Food truck",
        "description": "Second-hand truck and kitchen fit-out.",
        "lenders": [
            {"email": users["lender"].email, "contribution_amount": 8000},
            {"email": users["both"].email, "contribution_amount": 6000},
            {"email": "not-yet-registered@example.com", "contribution_amount": 4000},
        ],
    })
    lending.create_loan(store, users["both"].user_id, {
        "amount": 2500, "interest_rate": 5, "term": "6 months", "purpose": "Laptop",
        "lenders": [{"email": users["lender"].email, "contribution_amount": 2500}],
    })


def run(host: str, port: int, aws_port: int, demo: bool) -> None:
    with LocalAws(port=aws_port) as aws:
        deploy_database_stack(aws.endpoint_url)
        os.environ.update(local_environment(aws.endpoint_url))
        from service.app import create_app

        app = create_app()
        if demo:
            seed_demo_data()
        base = f"http://{host}:{port}"
        print(f"\nLending marketplace API: {base}")
        print(f"  Swagger UI:   {base}/ui/")
        print(f"  OpenAPI spec: {base}/openapi.json")
        print(f"  DynamoDB (moto, in memory; gone when this stops): {aws.endpoint_url}")
        if demo:
            print(f"  Demo logins (password '{DEMO_PASSWORD}'): "
                  + ", ".join(email for _, email in DEMO_USERS.values()))
        print("Press Ctrl-C to stop.\n", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="off", server_header=False)
