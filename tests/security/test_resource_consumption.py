"""API4 Unrestricted resource consumption: bodies, pages, passwords (bcrypt's input), nesting,
lenders per loan and numbers are all bounded, and a request past a bound is refused cheaply
with the contract's error instead of being processed or crashing the server."""

import json
import time

import pytest

from conftest import ACH, PASSWORD, Account, assert_error, current_services, unique_email, write_count
from security_support import bcrypt_calls, borrower, client, lender  # noqa: F401 (fixtures)

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def limit() -> int:
    return current_services().settings.max_body_bytes


def padded(body: dict, size: int) -> bytes:
    """`body` as JSON, padded with insignificant white space to exactly `size` bytes."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def chunked(raw: bytes, piece: int = 4096):
    """A generator body: httpx sends it with Transfer-Encoding: chunked and no Content-Length."""
    for start in range(0, len(raw), piece):
        yield raw[start : start + piece]


def post_raw(account: Account, path: str, text: str):
    """A body sent exactly as written (json= would re-serialise it)."""
    return account.client.post(path, content=text.encode(), headers={**JSON, **account.headers})


def registration(email: str) -> dict:
    return {"name": "Big Body", "email": email, "password": PASSWORD}


# -- body size ---------------------------------------------------------------------------


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_is_processed(client, limit, transfer):
    email = unique_email("atlimit")
    raw = padded(registration(email), limit)
    content = raw if transfer == "content-length" else chunked(raw)
    response = client.post("/auth/register", content=content, headers=JSON)
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == email


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
def test_one_byte_over_the_limit_is_413_and_writes_nothing(client, store, limit, transfer):
    email = unique_email("overlimit")
    raw = padded(registration(email), limit + 1)
    before = write_count(store)
    response = client.post(
        "/auth/register", content=raw if transfer == "content-length" else chunked(raw), headers=JSON
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert write_count(store) == before
    assert_error(client.post("/auth/login", json={"email": email, "password": PASSWORD}), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
def test_every_json_operation_refuses_an_oversized_body(client, store, borrower, lender, limit, transfer):
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    over = limit + 1
    requests = [
        ("POST", "/auth/register", {}, registration(unique_email("big"))),
        ("POST", "/auth/login", {}, {"email": lender.email, "password": PASSWORD}),
        (
            "POST",
            "/loans",
            borrower.headers,
            {
                "amount": 100,
                "interest_rate": 5,
                "term": "12 months",
                "purpose": "Big",
                "lenders": [{"email": lender.email, "contribution_amount": 100}],
            },
        ),
        ("PUT", f"/lender/accept/{loan_id}", lender.headers, ACH),
    ]
    before = write_count(store)
    for method, path, headers, body in requests:
        raw = padded(body, over)
        response = client.request(
            method, path, content=raw if transfer == "content-length" else chunked(raw), headers={**JSON, **headers}
        )
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert write_count(store) == before


def test_a_ten_megabyte_password_is_refused_before_any_hashing(client, store, bcrypt_calls):
    huge = "p" * 10_000_000
    before = write_count(store)
    started = time.perf_counter()
    for path, body in (
        ("/auth/register", {"name": "Huge", "email": unique_email("huge"), "password": huge}),
        ("/auth/login", {"email": unique_email("huge"), "password": huge}),
    ):
        assert_error(client.post(path, json=body), 413, "PAYLOAD_TOO_LARGE")
    assert time.perf_counter() - started < 5
    assert bcrypt_calls == []
    assert write_count(store) == before


# -- bcrypt's input --------------------------------------------------------------------------


def test_a_128_character_password_is_accepted_and_129_is_not(client, store, bcrypt_calls):
    email = unique_email("longpass")
    longest = "Ω" * 64 + "x" * 64
    registered = client.post("/auth/register", json={"name": "Long", "email": email, "password": longest})
    assert registered.status_code == 201, registered.text
    logged_in = client.post("/auth/login", json={"email": email, "password": longest})
    assert logged_in.status_code == 200, logged_in.text
    hashed = len(bcrypt_calls)
    assert hashed == 2  # one hash at registration, one check at login

    before = write_count(store)
    too_long = longest + "x"
    assert_error(
        client.post("/auth/register", json={"name": "Long", "email": unique_email("longpass"), "password": too_long}),
        400,
        "INVALID_INPUT",
    )
    assert_error(client.post("/auth/login", json={"email": email, "password": too_long}), 400, "INVALID_INPUT")
    assert len(bcrypt_calls) == hashed, "a refused password was hashed anyway"
    assert write_count(store) == before


def test_bcrypt_only_ever_sees_a_fixed_length_input(client, bcrypt_calls):
    """The pre-hash turns any password into 44 bytes: bcrypt's 72-byte limit and its cost
    do not depend on what the client sends."""
    email = unique_email("prehash")
    password = "€" * 128  # 384 bytes of UTF-8
    assert client.post("/auth/register", json={"name": "P", "email": email, "password": password}).status_code == 201
    assert client.post("/auth/login", json={"email": email, "password": password}).status_code == 200
    assert [length for _, length in bcrypt_calls] == [44, 44]


# -- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/loans/my-loans", "/lender/pending"])
def test_page_size_is_bounded(borrower, path):
    ok = borrower.get(path, params={"limit": 100})
    assert ok.status_code == 200, ok.text
    for bad in ("101", "0", "-1", "1000000000000", "1e2", "abc", ""):
        response = borrower.get(path, params={"limit": bad})
        assert_error(response, 400, "INVALID_INPUT")


@pytest.mark.parametrize("path", ["/loans/my-loans", "/lender/pending"])
def test_cursor_length_is_bounded(borrower, path):
    response = borrower.get(path, params={"cursor": "A" * 2049})
    body = assert_error(response, 400, "INVALID_INPUT")
    assert "A" * 100 not in response.text, "the value is echoed back"
    assert len(json.dumps(body)) < 1000


# -- nesting and lenders ---------------------------------------------------------------------


def _nested_bodies():
    return {
        "array-10000-deep": "[" * 10000 + "]" * 10000,
        "object-5000-deep": '{"a":' * 5000 + "1" + "}" * 5000,
        "array-900-deep-in-email": '{"email":' + "[" * 900 + "]" * 900 + ',"password":"x"}',
        "object-3000-deep-in-lenders": '{"amount":1,"interest_rate":1,"term":"1 month","purpose":"p","lenders":'
        + '{"a":' * 3000
        + "1"
        + "}" * 3000
        + "}",
    }


@pytest.mark.parametrize("case", list(_nested_bodies()), ids=str)
def test_deeply_nested_json_within_the_size_limit_is_400(client, store, borrower, limit, case):
    raw = _nested_bodies()[case].encode()
    assert len(raw) <= limit
    before = write_count(store)
    for path, headers in (("/auth/login", {}), ("/auth/register", {}), ("/loans", borrower.headers)):
        response = client.post(path, content=raw, headers={**JSON, **headers})
        assert_error(response, 400, "INVALID_INPUT")
    assert write_count(store) == before


def test_forty_one_lenders_are_refused_and_forty_accepted(borrower, store):
    def lenders(n):
        return [{"email": unique_email(f"invitee{i}"), "contribution_amount": 10} for i in range(n)]

    body = {"amount": 400, "interest_rate": 5, "term": "12 months", "purpose": "Many lenders"}
    before = write_count(store)
    refused = borrower.post("/loans", json={**body, "lenders": lenders(41)})
    error = assert_error(refused, 400, "INVALID_INPUT")
    assert error["details"] == {"field": "lenders", "rule": "maxItems"}, error
    assert write_count(store) == before

    accepted = borrower.post("/loans", json={**body, "lenders": lenders(40)})
    assert accepted.status_code == 201, accepted.text
    assert len(accepted.json()["participants"]) == 40


# -- numbers ---------------------------------------------------------------------------------

LOAN_TEMPLATE = (
    '{"amount":%s,"interest_rate":5,"term":"12 months","purpose":"Numbers",'
    '"lenders":[{"email":"numbers@example.com","contribution_amount":100}]}'
)


@pytest.mark.parametrize("where", ["unknown-key", "password"])
def test_a_five_thousand_digit_integer_is_400(client, where):
    digits = "1" * 5000
    body = (
        '{"email":"a@example.com","password":"long enough","n":%s}' % digits
        if where == "unknown-key"
        else '{"email":"a@example.com","password":%s}' % digits
    )
    assert_error(client.post("/auth/login", content=body.encode(), headers=JSON), 400, "INVALID_INPUT")


def test_an_amount_with_five_thousand_digits_is_400(borrower):
    body = LOAN_TEMPLATE % ("1." + "0" * 5000)
    assert_error(post_raw(borrower, "/loans", body), 400, "INVALID_INPUT")


def test_a_huge_exponent_is_refused_quickly(borrower):
    body = LOAN_TEMPLATE % "1e2000000"
    started = time.perf_counter()
    response = post_raw(borrower, "/loans", body)
    elapsed = time.perf_counter() - started
    assert_error(response, 400, "INVALID_INPUT")
    assert elapsed < 0.5, f"{elapsed:.2f} s to refuse a 10-byte number"


def test_moderate_exponents_are_refused_as_out_of_range(borrower):
    for number in ("1e400", "1e-400", "-1e400", "1E+30"):
        response = post_raw(borrower, "/loans", LOAN_TEMPLATE % number)
        assert_error(response, 400, "INVALID_INPUT")
