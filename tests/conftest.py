"""Shared fixtures: a real moto server holding the tables the real template creates, and the
app served by uvicorn on a real socket, so API tests go through HTTP like any client."""

import os
import uuid

import httpx
import pytest

from devstack import mailbox
from devstack.api import BackgroundServer
from devstack.aws import LocalAws, aws_environment, deploy_database_stack
from service.clock import SystemClock
from service.domain.deadlines import at

# bcrypt's cost is a setting; 4 keeps the suites fast without changing any code path.
TEST_ENV = {
    "TABLE_PREFIX": "marketplace-local",
    "JWT_SECRET": "test-secret-that-is-long-enough-for-hs256!",
    "BCRYPT_ROUNDS": "4",
    "VALIDATE_RESPONSES": "true",
    "CORS_ALLOWED_ORIGINS": "http://localhost:3000",
    "LOG_LEVEL": "WARNING",
    "EMAIL_SENDER": mailbox.LOCAL_SENDER,
    "APP_BASE_URL": "http://localhost:3000",
}
PASSWORD = "correct horse battery staple"
ACH = {
    "bank_name": "First Example Bank",
    "account_type": "checking",
    "routing_number": "011000015",
    "account_number": "000123456789",
}


@pytest.fixture(scope="session")
def local_aws():
    with LocalAws() as aws:
        os.environ.update(aws_environment(aws.endpoint_url))
        outputs = deploy_database_stack(aws.endpoint_url)
        os.environ["DOCUMENTS_BUCKET"] = outputs["DocumentsBucketName"]
        mailbox.verify_sender(aws.endpoint_url)
        yield aws


_services = []


@pytest.fixture(scope="session")
def services(local_aws):
    """What the composition root builds for the app under test (its store, clock, ...)."""
    os.environ.update(TEST_ENV)
    from service.bootstrap import bootstrap

    _services.append(bootstrap())
    return _services[-1]


def current_services():
    """The app's services, for helpers that are not fixtures (the `services` fixture made them)."""
    return _services[-1]


class ShiftedClock(SystemClock):
    """The system clock, some seconds ahead: expiry and lockouts without waiting."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def now(self) -> float:
        return super().now() + self.seconds


@pytest.fixture
def services_later(services):
    """`services_later(seconds)`: the app's use cases over the same store, with the clock moved on."""
    from service.bootstrap import bootstrap

    def later(seconds: float):
        return bootstrap(
            services.settings,
            store=services.store,
            vault=services.vault,
            mailer=services.mailer,
            clock=ShiftedClock(seconds),
        )

    return later


# The earliest funding deadline a test loan may have (MIN_FUNDING_WINDOW_SECONDS' default),
# and how far on the clock of `later_api` is: past every such deadline.
FUNDING_WINDOW = 3600
LATER = 2 * FUNDING_WINDOW


def soon() -> str:
    """A funding deadline just past the earliest allowed: passed for `later_api`."""
    return at(SystemClock().now() + FUNDING_WINDOW + 60)


@pytest.fixture(scope="session")
def later_services(services):
    """The app's use cases over the same store, mailer and vault, `LATER` seconds on."""
    from service.bootstrap import bootstrap

    return bootstrap(
        services.settings, store=services.store, vault=services.vault, mailer=services.mailer, clock=ShiftedClock(LATER)
    )


@pytest.fixture(scope="session")
def later_api(later_services):
    """The same system served `LATER` seconds on, as the API: tokens issued now have expired
    there, so act through `Account.later(later_api)`, which logs in again."""
    from service.http.app import create_app

    server = BackgroundServer(create_app(later_services))
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client
    server.stop()


@pytest.fixture(scope="session")
def notifier(services, local_aws):
    """The notifier on the loan events' stream: `notifier.pump()` delivers what is new."""
    from devstack.workers import StreamPump

    return StreamPump(services, local_aws.endpoint_url)


@pytest.fixture(scope="session")
def app(services):
    from service.http.app import create_app

    return create_app(services)


@pytest.fixture(scope="session")
def base_url(app):
    """The app behind uvicorn in a background thread, on a real socket."""
    server = BackgroundServer(app)
    yield server.base_url
    server.stop()


@pytest.fixture
def api(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def store(services):
    services.store.db.client.meta.events.register("after-call.dynamodb", _count_write)
    return services.store


ERROR_KEYS = {"error", "message", "details", "request_id"}


def assert_error(response, status: int, code: str) -> dict:
    """The contract's `Error` shape, with this status and code, and the request id echoed."""
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert response.headers.get("content-type", "").split(";")[0].strip() == "application/json", response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) <= ERROR_KEYS, f"unexpected keys {set(body) - ERROR_KEYS}"
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["request_id"], str) and body["request_id"], body
    assert response.headers.get("x-request-id") == body["request_id"], (response.headers, body)
    return body


# DynamoDB operations that change items; a cancelled transaction or a failed condition
# answers 400 and changes nothing.
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_writes = {"count": 0}


def _count_write(model, http_response, **_) -> None:
    if model.name in WRITES and http_response.status_code == 200:
        _writes["count"] += 1


def write_count(store) -> int:
    """How many writes the app's store has made so far. The same before and after a request
    means it wrote nothing: cheaper than counting every table's items, whatever their size."""
    return _writes["count"]


def unique_email(label: str = "user") -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def verify(client: httpx.Client, email: str) -> httpx.Response:
    """Follow the link of the newest verification email sent to `email`."""
    return client.post("/auth/verify-email", json={"token": mailbox.verification_token(email)})


class Account:
    """A registered user, as the API returned them; verified (through the link emailed to
    them) unless `verified=False`."""

    def __init__(self, client: httpx.Client, name: str, email: str, verified: bool = True):
        response = client.post("/auth/register", json={"name": name, "email": email, "password": PASSWORD})
        assert response.status_code == 201, response.text
        if verified:
            response = verify(client, email)
            assert response.status_code == 200, response.text
        self.client = client
        self.token = response.json()["token"]
        self.refresh_token = response.json()["refresh_token"]
        self.user = response.json()["user"]
        self.email = email
        self.headers = bearer(self.token)

    @property
    def user_id(self) -> str:
        return self.user["user_id"]

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.client.post(path, headers=self.headers, **kwargs)

    def put(self, path: str, **kwargs) -> httpx.Response:
        return self.client.put(path, headers=self.headers, **kwargs)

    def create_loan(self, lenders: list[tuple[str, float]], amount: float = 1000, **fields) -> dict:
        body = {
            "amount": amount,
            "interest_rate": 6.5,
            "term": "12 months",
            "purpose": "Working capital",
            "lenders": [{"email": email, "contribution_amount": c} for email, c in lenders],
            **fields,
        }
        response = self.post("/loans", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def accept(self, loan_id: str, **ach) -> httpx.Response:
        return self.put(f"/lender/accept/{loan_id}", json={**ACH, **ach})

    def decline(self, loan_id: str, reason: str | None = None) -> httpx.Response:
        return self.put(f"/lender/decline/{loan_id}", json={"reason": reason} if reason else None)

    def cancel(self, loan_id: str, reason: str | None = None) -> httpx.Response:
        return self.post(f"/loans/{loan_id}/cancel", json={"reason": reason} if reason else None)

    def invite(self, loan_id: str, lenders: list[tuple[str, float]]) -> httpx.Response:
        body = {"lenders": [{"email": email, "contribution_amount": c} for email, c in lenders]}
        return self.post(f"/loans/{loan_id}/invitations", json=body)

    def events(self, loan_id: str) -> list[dict]:
        """The loan's whole history as this user may see it, every page."""
        items, cursor = [], None
        while True:
            response = self.get(
                f"/loans/{loan_id}/events", params={"limit": 100, **({"cursor": cursor} if cursor else {})}
            )
            assert response.status_code == 200, response.text
            items += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return items

    def later(self, later_api: httpx.Client) -> "Account":
        """This user on `later_api`, logged in there."""
        response = later_api.post("/auth/login", json={"email": self.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        moved = object.__new__(Account)
        moved.client, moved.token, moved.user, moved.email = later_api, response.json()["token"], self.user, self.email
        moved.headers = bearer(moved.token)
        return moved


@pytest.fixture
def register(api):
    def _register(label: str = "user", email: str | None = None, verified: bool = True) -> Account:
        return Account(api, label.title(), email or unique_email(label), verified)

    return _register
