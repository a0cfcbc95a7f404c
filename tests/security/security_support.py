"""Helpers shared by the security suites: a client per module, hand-made tokens, a spy on
bcrypt, a walk over JSON bodies, and a comparison of answers. Not a conftest, so `from
conftest import ...` keeps meaning the shared tests/conftest.py."""

import base64
import hashlib
import hmac
import json
import re
import time

import bcrypt
import httpx
import pytest

from conftest import ERROR_KEYS, Account, current_services, unique_email


@pytest.fixture(scope="module")
def client(base_url):
    """One HTTP client for a whole module, so module-scoped accounts can share it."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
def borrower(client):
    return Account(client, "Borrower", unique_email("borrower"))


@pytest.fixture(scope="module")
def lender(client):
    return Account(client, "Lender", unique_email("lender"))


# -- tokens --------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def good_claims(subject: str, /, **changes) -> dict:
    """The claims the server itself would issue for `subject`, with `changes` applied
    (a value of None removes the claim)."""
    config = current_services().settings
    now = int(time.time())
    claims = {
        "sub": subject,
        "iss": config.jwt_issuer,
        "aud": config.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    for key, value in changes.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


def good_header(**changes) -> dict:
    header = {"alg": "HS256", "kid": current_services().settings.jwt_key_id, "typ": "JWT"}
    for key, value in changes.items():
        if value is None:
            header.pop(key, None)
        else:
            header[key] = value
    return header


def hand_signed(header: dict, claims: dict, key: bytes | str | None = None, digest=hashlib.sha256) -> str:
    """A compact JWS built by hand, for headers and keys that PyJWT refuses to produce.
    `key=None` signs with the service's real secret; `digest=None` leaves the signature empty."""
    if key is None:
        key = current_services().settings.jwt_secret
    if isinstance(key, str):
        key = key.encode()
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = b"" if digest is None else hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def as_bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- bcrypt --------------------------------------------------------------------------------


@pytest.fixture
def bcrypt_calls(monkeypatch):
    """Every call the server makes into bcrypt while the test runs, as (function, input
    length) pairs. The app runs in this process, so patching the library reaches it."""
    calls = []
    for name in ("hashpw", "checkpw"):
        real = getattr(bcrypt, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append((_name, len(args[0]) if args else None))
            return _real(*args, **kwargs)

        monkeypatch.setattr(bcrypt, name, spy)
    return calls


# -- JSON ----------------------------------------------------------------------------------


def walk(value, path="$"):
    """Every (path, key, value) in a JSON document; key is None for list items and the root."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{path}[{index}]", None, item
            yield from walk(item, f"{path}[{index}]")


def assert_only_error_keys(response) -> None:
    """A refusal carries the error shape and nothing of the resource."""
    body = response.json()
    assert set(body) <= ERROR_KEYS, body


def json_content_type(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


VOLATILE_HEADERS = {"date", "x-request-id"}


def comparable(response) -> tuple:
    """Status, body and headers, without what differs on every request (the request id, the
    date) and with numbers blurred (a retry delay may tick over between two requests)."""
    body = response.json()
    body.pop("request_id", None)
    blurred = re.sub(r"\d+", "N", str(sorted(body.items())))
    headers = {k: re.sub(r"\d+", "N", v) for k, v in response.headers.items() if k.lower() not in VOLATILE_HEADERS}
    return response.status_code, blurred, headers
