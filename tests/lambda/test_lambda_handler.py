"""The Lambda entry point (`service.lambdas.http`) driven by API Gateway proxy events, REST
API (v1) and HTTP API (v2), against the local DynamoDB. The events are built by
`devstack.apigateway` with only what API Gateway sends for a plain request."""

import base64
import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack import mailbox
from devstack.apigateway import http_event, invoke, lambda_handler_module, rest_event
from devstack.aws import aws_environment, client

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
ORIGIN = "https://app.example.com"
KEYS_SECRET = "marketplace/local/lambda-tests/jwt-keys"
DERIVATION_SECRET = "marketplace/local/lambda-tests/derivation"
ACH = {
    "bank_name": "First Example Bank",
    "account_type": "checking",
    "routing_number": "011000015",
    "account_number": "000123456789",
}
ENV = {
    "TABLE_PREFIX": "marketplace-local",
    "JWT_SECRET": None,  # deployed functions read their keys from Secrets Manager
    "JWT_KEYS_SECRET_ID": KEYS_SECRET,
    "DERIVATION_SECRET_ID": DERIVATION_SECRET,
    "BCRYPT_ROUNDS": "4",
    "VALIDATE_RESPONSES": "true",
    "CORS_ALLOWED_ORIGINS": ORIGIN,
    "LOG_LEVEL": "WARNING",
    "EMAIL_SENDER": mailbox.LOCAL_SENDER,
    "APP_BASE_URL": "https://app.example.com",
}


@pytest.fixture(scope="module")
def lambda_module(local_aws):
    put_secret(local_aws.endpoint_url, KEYS_SECRET, json.dumps({"kid": "initial", "key": "x" * 48}))
    put_secret(local_aws.endpoint_url, DERIVATION_SECRET, "lambda-test-secret-" + "x" * 32)
    with lambda_handler_module(ENV) as module:
        yield module


def put_secret(endpoint_url: str, name: str, value: str) -> None:
    secrets_manager = client("secretsmanager", endpoint_url)
    try:
        secrets_manager.create_secret(Name=name, SecretString=value)
    except secrets_manager.exceptions.ResourceExistsException:
        secrets_manager.put_secret_value(SecretId=name, SecretString=value)


@pytest.fixture
def handler(lambda_module):
    return lambda_module.handler


def email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.com"


# One builder per payload version, with the REST API's route templates.
def v1(method, path, resource=None, params=None, **kwargs):
    return rest_event(method, path, resource=resource, path_parameters=params, **kwargs)


def v2(method, path, resource=None, params=None, **kwargs):
    return http_event(method, path, route_key=f"{method} {resource or path}", path_parameters=params, **kwargs)


BUILDERS = {"rest-v1": v1, "http-v2": v2}


@pytest.fixture(params=sorted(BUILDERS))
def event(request):
    return BUILDERS[request.param]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_json(response, status: int, request_id: str) -> dict:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == request_id
    return response.json()


def register(handler, event, label: str, **kwargs) -> dict:
    """A registered account, verified through the link emailed to it."""
    address = email(label)
    response = invoke(
        handler,
        event("POST", "/auth/register", body={"name": label.title(), "email": address, "password": PASSWORD}, **kwargs),
    )
    assert response.status == 201, response.text
    return verify(handler, event, address)


def verify(handler, event, address: str) -> dict:
    response = invoke(handler, event("POST", "/auth/verify-email", body={"token": mailbox.verification_token(address)}))
    assert response.status == 200, response.text
    assert response.json()["user"]["email_verified"] is True
    return response.json()


# -- init ---------------------------------------------------------------------------------------


def test_init_builds_the_app_and_its_middleware_stack(lambda_module):
    assert lambda_module.init_error is None
    assert lambda_module.adapter is not None
    # Connexion builds this on the first ASGI event; init sent the lifespan cycle.
    assert lambda_module.app.middleware.middleware_stack is not None
    assert lambda_module.adapter.lifespan == "off"


def test_handlers_run_on_the_invocations_thread(lambda_module, handler, monkeypatch):
    """One request at a time per process: no thread pool, so no new OS thread per request."""
    ping, threads = lambda_module.services.store.ping, []
    monkeypatch.setattr(lambda_module.services.store, "ping", lambda: threads.append(threading.get_ident()) or ping())
    for _ in range(3):
        assert invoke(handler, v1("GET", "/health")).status == 200
    assert threads == [threading.get_ident()] * 3


def test_a_retry_with_its_idempotency_key_is_replayed_by_the_function(handler, event):
    """The Idempotency-Key layer with the handlers on the invocation's thread: the second
    request gets the first one's answer and makes no second account (one email sent)."""
    address, key = email("retried"), {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": "Ida", "email": address, "password": PASSWORD}
    first = invoke(handler, event("POST", "/auth/register", body=body, headers=key))
    again = invoke(handler, event("POST", "/auth/register", body=body, headers=key))
    assert (first.status, again.status) == (201, 201), again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers and len(mailbox.sent(address)) == 1


def test_the_function_serves_neither_swagger_ui_nor_the_spec(handler):
    """API Gateway routes only the operations; `make run` serves both (tests/api/test_errors.py)."""
    for path in ("/openapi.json", "/ui/"):
        assert invoke(handler, v1("GET", path)).json()["error"] == "NOT_FOUND"


def test_the_keys_came_from_secrets_manager(lambda_module):
    assert "JWT_SECRET" not in os.environ or os.environ["JWT_SECRET"] == ""
    settings = lambda_module.services.settings
    assert (settings.jwt_secret, settings.derivation_root) == ("", "lambda-test-secret-" + "x" * 32)
    assert lambda_module.services.tokens.keys.signing_key().kid == "initial"


# -- the journey, through both payload versions ------------------------------------------------


def test_register_login_create_accept(handler, event):
    request_id = str(uuid.uuid4())
    borrower_email = email("borrower")
    response = invoke(
        handler,
        event(
            "POST",
            "/auth/register",
            request_id=request_id,
            body={"name": "Bo", "email": borrower_email, "password": PASSWORD},
        ),
    )
    session = assert_json(response, 201, request_id)
    assert session["token_type"] == "Bearer" and session["user"]["email"] == borrower_email
    assert session["user"]["email_verified"] is False
    verify(handler, event, borrower_email)

    request_id = str(uuid.uuid4())
    response = invoke(
        handler,
        event("POST", "/auth/login", request_id=request_id, body={"email": borrower_email, "password": PASSWORD}),
    )
    borrower = assert_json(response, 200, request_id)
    lender = register(handler, event, "lender")

    request_id = str(uuid.uuid4())
    response = invoke(
        handler,
        event(
            "POST",
            "/loans",
            request_id=request_id,
            headers=bearer(borrower["token"]),
            body={
                "amount": 500,
                "interest_rate": 7.5,
                "term": "12 months",
                "purpose": "Tools",
                "lenders": [{"email": lender["user"]["email"], "contribution_amount": 500}],
            },
        ),
    )
    loan = assert_json(response, 201, request_id)
    assert response.headers["location"] == f"/loans/{loan['loan_id']}"
    assert loan["status"] == "PENDING" and loan["total_funded"] == 0

    request_id = str(uuid.uuid4())
    response = invoke(
        handler,
        event(
            "PUT",
            f"/lender/accept/{loan['loan_id']}",
            "/lender/accept/{loan_id}",
            {"loan_id": loan["loan_id"]},
            request_id=request_id,
            headers=bearer(lender["token"]),
            body=ACH,
        ),
    )
    accepted = assert_json(response, 200, request_id)
    assert accepted["loan"]["status"] == "ACTIVE" and accepted["loan"]["total_funded"] == 500
    assert accepted["participation"]["funded_amount"] == 500
    assert accepted["ach"]["account_number_masked"].endswith("6789")
    assert "000123456789" not in response.text

    response = invoke(
        handler,
        event(
            "GET",
            f"/loans/{loan['loan_id']}",
            "/loans/{loan_id}",
            {"loan_id": loan["loan_id"]},
            headers=bearer(borrower["token"]),
        ),
    )
    assert response.status == 200 and response.json()["status"] == "ACTIVE"


@pytest.mark.parametrize("content_length", [True, False], ids=["with-content-length", "no-content-length"])
@pytest.mark.parametrize("base64_body", [False, True], ids=["text", "base64"])
def test_bodies_with_or_without_content_length_and_base64(handler, event, content_length, base64_body):
    """API Gateway passes the client's headers as they are (HTTP/2 clients send no
    Content-Length) and base64-encodes bodies it treats as binary."""
    body = {"name": "Enc", "email": email("enc"), "password": PASSWORD}
    built = event("POST", "/auth/register", body=body, content_length=content_length, base64_body=base64_body)
    assert built["isBase64Encoded"] is base64_body
    headers = {k.lower() for k in built["headers"]}
    assert ("content-length" in headers) is content_length
    if base64_body:
        assert json.loads(base64.b64decode(built["body"])) == body
    response = invoke(handler, built)
    assert response.status == 201, response.text
    assert response.json()["user"]["email"] == body["email"]


def test_invalid_body_is_refused_in_the_error_shape(handler, event):
    request_id = str(uuid.uuid4())
    response = invoke(
        handler,
        event(
            "POST",
            "/auth/register",
            request_id=request_id,
            base64_body=True,
            body={"name": "X", "email": "not-an-email", "password": PASSWORD},
        ),
    )
    body = assert_json(response, 400, request_id)
    assert body["error"] in {"INVALID_INPUT", "INVALID_EMAIL"} and body["request_id"] == request_id


def test_query_string_limit_pages_my_loans(handler, event):
    borrower = register(handler, event, "pager")
    for amount in (100, 200, 300):
        response = invoke(
            handler,
            event(
                "POST",
                "/loans",
                headers=bearer(borrower["token"]),
                body={
                    "amount": amount,
                    "interest_rate": 5,
                    "term": "6 months",
                    "purpose": "Stock",
                    "lenders": [{"email": email("invitee"), "contribution_amount": amount}],
                },
            ),
        )
        assert response.status == 201, response.text

    first = invoke(handler, event("GET", "/loans/my-loans", headers=bearer(borrower["token"]), query={"limit": "2"}))
    assert first.status == 200, first.text
    page = first.json()
    assert [loan["amount"] for loan in page["items"]] == [300, 200]  # newest first
    assert page["next_cursor"]

    second = invoke(
        handler,
        event(
            "GET",
            "/loans/my-loans",
            headers=bearer(borrower["token"]),
            query={"limit": "2", "cursor": page["next_cursor"]},
        ),
    )
    assert second.status == 200, second.text
    assert [loan["amount"] for loan in second.json()["items"]] == [100]
    assert second.json()["next_cursor"] is None

    refused = invoke(handler, event("GET", "/loans/my-loans", headers=bearer(borrower["token"]), query={"limit": "0"}))
    assert refused.status == 400 and refused.json()["error"] == "INVALID_INPUT"


def test_cors_preflight(handler, event):
    request_id = str(uuid.uuid4())
    response = invoke(
        handler,
        event(
            "OPTIONS",
            "/loans",
            request_id=request_id,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        ),
    )
    assert response.status == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "x-request-id" in response.headers  # even on a preflight

    refused = invoke(
        handler,
        event(
            "OPTIONS",
            "/loans",
            request_id=request_id,
            headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
        ),
    )
    body = assert_json(refused, 403, request_id)
    assert body["error"] == "ACCESS_DENIED"
    assert "access-control-allow-origin" not in refused.headers


def test_cors_headers_on_an_actual_request(handler, event):
    response = invoke(handler, event("GET", "/health", headers={"Origin": ORIGIN}))
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


def test_request_id_is_api_gateways(handler, event):
    """X-Request-Id is requestContext.requestId, for successes and errors alike, so the
    gateway's and the service's logs share one id."""
    for method, path, status in [("GET", "/health", 200), ("GET", "/user/profile", 401), ("GET", "/no/such/path", 404)]:
        request_id = str(uuid.uuid4())
        response = invoke(handler, event(method, path, request_id=request_id))
        assert response.status == status, response.text
        assert response.headers["x-request-id"] == request_id
        if status >= 400:
            assert response.json()["request_id"] == request_id


def test_request_id_is_on_the_access_log_line(handler, caplog):
    request_id = f"gw-{uuid.uuid4()}"
    with caplog.at_level(logging.INFO, logger="service.access"):
        invoke(handler, rest_event("GET", "/health", request_id=request_id))
    lines = [r for r in caplog.records if r.name == "service.access" and getattr(r, "path", None) == "/health"]
    assert [(r.request_id, r.status) for r in lines] == [(request_id, 200)]


def test_an_event_that_is_not_from_api_gateway_gets_a_clean_500(handler):
    raw = handler({"Records": [{"eventSource": "aws:sqs"}]}, None)
    assert raw["statusCode"] == 500
    body = json.loads(raw["body"])
    assert body["error"] == "INTERNAL_ERROR" and body["message"] == "An unexpected error occurred."
    assert raw["headers"]["x-request-id"] == body["request_id"]
    assert "Traceback" not in raw["body"]


# -- init failures ------------------------------------------------------------------------------

INIT_PROBE = """
import json
from devstack.apigateway import invoke, rest_event
import service.lambdas.http as h
response = invoke(h.handler, rest_event("GET", "/health", request_id="gw-request-1"))
print("RESPONSE " + json.dumps({"status": response.status, "headers": response.headers, "body": response.text}))
"""


def run_cold(env: dict[str, str]) -> tuple[list[dict], dict, str]:
    """A fresh process importing the handler (Lambda init) and invoking it once: its JSON
    log lines, the response, and everything it printed."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TABLE_PREFIX", "JWT_SECRET", "JWT_KEYS_SECRET_ID", "DERIVATION_SECRET_ID", "LOG_LEVEL"}
    }
    result = subprocess.run(
        [sys.executable, "-c", INIT_PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(REPO_ROOT), **env},
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    logs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    response = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("RESPONSE "))[9:])
    return logs, response, output


def init_cases(endpoint_url: str) -> dict[str, tuple[dict, str]]:
    aws = aws_environment(endpoint_url)
    deployed = {
        "TABLE_PREFIX": "marketplace-local",
        "JWT_KEYS_SECRET_ID": KEYS_SECRET,
        "DERIVATION_SECRET_ID": DERIVATION_SECRET,
    }
    return {
        "no table prefix": ({"JWT_SECRET": "s" * 40}, "TABLE_PREFIX is not set."),
        "no secret": ({"TABLE_PREFIX": "marketplace-local"}, "JWT_SECRET is not set."),
        "no such secret": (
            {**aws, **deployed, "DERIVATION_SECRET_ID": "marketplace/local/missing"},
            "Secrets Manager secret 'marketplace/local/missing' (DERIVATION_SECRET_ID) does not exist.",
        ),
        "no keys": (
            {**aws, **deployed, "JWT_KEYS_SECRET_ID": "marketplace/local/missing"},
            "Secrets Manager secret 'marketplace/local/missing' (JWT_KEYS_SECRET_ID) has no AWSCURRENT version.",
        ),
        "short derivation secret": (
            {**aws, **deployed, "DERIVATION_SECRET_ID": "marketplace/local/short"},
            "The derivation secret must be at least 32 bytes.",
        ),
    }


def test_misconfiguration_fails_init_with_a_clear_message(local_aws, lambda_module):
    put_secret(local_aws.endpoint_url, "marketplace/local/short", "too-short")
    cases = init_cases(local_aws.endpoint_url)
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        results = dict(zip(cases, pool.map(lambda case: run_cold(case[0]), cases.values()), strict=False))
    for name, (logs, response, output) in results.items():
        expected = cases[name][1]
        # Once at import (Lambda's init), once more when the invocation retries it.
        failures = [
            {k: v for k, v in line.items() if k != "time"}
            for line in logs
            if line["message"].startswith("Lambda init failed")
        ]
        assert failures == [
            {
                "level": "CRITICAL",
                "logger": "service.lambda",
                "message": f"Lambda init failed: {expected}",
                "request_id": request_id,
                "error_type": "ConfigError",
            }
            for request_id in (None, "gw-request-1")
        ], (name, output)
        # Nothing but the clean error reaches the caller, and no traceback is printed.
        assert response["status"] == 500, name
        assert json.loads(response["body"]) == {
            "error": "INTERNAL_ERROR",
            "message": "The service is unavailable; please retry later.",
            "request_id": "gw-request-1",
        }, name
        assert response["headers"]["x-request-id"] == "gw-request-1"
        assert "Traceback" not in output, (name, output)


def test_a_failed_init_is_retried_on_the_next_invocation(local_aws):
    """A transient failure (here: the secret does not exist yet) heals without a redeploy."""
    name = f"marketplace/local/late-{uuid.uuid4().hex[:8]}"
    with lambda_handler_module({**ENV, "DERIVATION_SECRET_ID": name}) as module:
        assert module.init_error == f"Secrets Manager secret '{name}' (DERIVATION_SECRET_ID) does not exist."
        assert invoke(module.handler, rest_event("GET", "/health")).status == 500
        put_secret(local_aws.endpoint_url, name, "z" * 40)
        response = invoke(module.handler, rest_event("GET", "/health"))
        assert response.status == 200, response.text
        assert module.init_error is None and module.app.middleware.middleware_stack is not None
