"""Finding 4 of the integrity review: responses carrying tokens or personal data could be
stored by caches, no response told browsers not to sniff content types, and the local server
accepted an 8 MB header and 100,000 headers."""

import socket
from urllib.parse import urlsplit

import pytest

from conftest import PASSWORD, unique_email
from security_support import borrower, client, lender  # noqa: F401 (fixtures)


def assert_protected(response) -> None:
    assert response.headers.get("cache-control") == "no-store", (response.request.url, response.headers)
    assert response.headers.get("x-content-type-options") == "nosniff", (response.request.url, response.headers)


def test_token_and_personal_responses_are_never_stored_and_never_sniffed(client, borrower, lender):
    email = unique_email("headers")
    registered = client.post("/auth/register", json={"name": "H", "email": email, "password": PASSWORD})
    loan = borrower.create_loan([(lender.email, 100)], amount=100)
    responses = [
        registered,
        client.post("/auth/login", json={"email": email, "password": PASSWORD}),
        client.post("/auth/login", json={"email": email, "password": "wrong password"}),
        borrower.get("/user/profile"),
        borrower.get("/user/dashboard"),
        borrower.get("/loans/my-loans"),
        borrower.get(f"/loans/{loan['loan_id']}"),
        lender.get("/lender/pending"),
        lender.accept(loan["loan_id"]),
        lender.accept(loan["loan_id"]),  # 409
    ]
    for response in responses:
        assert_protected(response)


def test_every_other_response_carries_them_too(client):
    responses = [
        client.get("/health"),
        client.get("/no/such/path"),
        client.delete("/auth/login"),
        client.get("/user/profile"),  # 401
        client.options("/loans", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}),
        client.options("/loans", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}),
    ]
    for response in responses:
        assert_protected(response)


def raw_request(base_url: str, head: bytes) -> bytes:
    """Send a request head over a plain socket; what the server answered (maybe nothing)."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as conn:
        try:
            for start in range(0, len(head), 64 * 1024):
                conn.sendall(head[start : start + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before we finished sending
        try:
            return conn.recv(4096)
        except ConnectionResetError:
            return b""


@pytest.mark.parametrize("case", ["one 8 MB header", "100,000 headers"])
def test_the_local_server_bounds_request_heads(base_url, case):
    if case == "one 8 MB header":
        headers = b"X-Big: " + b"a" * (8 * 1024 * 1024) + b"\r\n"
    else:
        headers = b"".join(b"X-H%d: v\r\n" % i for i in range(100_000))
    answer = raw_request(base_url, b"GET /health HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n")
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_an_ordinary_request_head_is_served(base_url):
    answer = raw_request(
        base_url,
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(40))
        + b"\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
