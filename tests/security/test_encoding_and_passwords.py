"""Bodies that are not UTF-8, and passwords longer than bcrypt's 72-byte input: all handled
with the contract's answers, never a 500, and every character of a password counts."""

import json

import pytest

from conftest import ACH, assert_error, unique_email, write_count
from security_support import borrower, client, lender  # noqa: F401 (fixtures)

JSON = {"Content-Type": "application/json"}

INVALID_UTF8 = {
    "latin-1-bytes": b"Zo\xeb",
    "lone-continuation-byte": b"\x80abc",
    "overlong-slash": b"\xc0\xaf",
    "encoded-surrogate": b"\xed\xa0\x80",
    "truncated-sequence": b"ab\xe2\x82",
    "invalid-start-bytes": b"\xff\xfe",
}


def raw_json(template: dict, field: str, raw: bytes) -> bytes:
    """`template` as JSON with the string value of `field` replaced by raw bytes."""
    marker = "\u2603MARKER\u2603"
    text = json.dumps({**template, field: marker}, ensure_ascii=True).encode()
    return text.replace(json.dumps(marker).encode()[1:-1], raw)


@pytest.mark.parametrize("case", list(INVALID_UTF8), ids=str)
def test_a_body_that_is_not_utf8_is_400_on_every_json_operation(client, store, borrower, lender, case):
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    raw = INVALID_UTF8[case]
    requests = [
        (
            "POST",
            "/auth/register",
            {},
            raw_json({"name": "n", "email": unique_email("enc"), "password": "p" * 10}, "name", raw),
        ),
        ("POST", "/auth/login", {}, raw_json({"email": lender.email, "password": "p" * 10}, "password", raw)),
        (
            "POST",
            "/loans",
            borrower.headers,
            raw_json(
                {
                    "amount": 100,
                    "interest_rate": 5,
                    "term": "12 months",
                    "purpose": "p",
                    "lenders": [{"email": lender.email, "contribution_amount": 100}],
                },
                "purpose",
                raw,
            ),
        ),
        ("PUT", f"/lender/accept/{loan_id}", lender.headers, raw_json(ACH, "bank_name", raw)),
    ]
    before = write_count(store)
    for method, path, headers, body in requests:
        response = client.request(method, path, content=body, headers={**JSON, **headers})
        assert_error(response, 400, "INVALID_INPUT")
    assert write_count(store) == before


# Declared charsets other than UTF-8: tests/security/test_one_reading_of_the_body.py.


# -- passwords past bcrypt's 72 bytes ------------------------------------------------------

LONG_PASSWORDS = {
    "100-ascii-bytes": "a" * 99 + "Z",
    "60-euro-signs-180-bytes": "€" * 60,
    "128-four-byte-emoji": "🔑" * 128,
    "nul-inside": "before\u0000after-and-more",
}


def variants_after_byte_72(password: str) -> list[str]:
    """Passwords equal to `password` in their first 72 UTF-8 bytes (all bcrypt alone would
    read) but different after them."""
    encoded = password.encode()
    if len(encoded) <= 72:
        return []
    head = encoded[:72].decode(errors="ignore")
    return [head + "X" * (len(password) - len(head)), password[:-1] + ("Y" if password[-1] != "Y" else "Z")]


@pytest.mark.parametrize("case", list(LONG_PASSWORDS), ids=str)
def test_long_and_unusual_passwords_register_and_log_in(client, case):
    password = LONG_PASSWORDS[case]
    email = unique_email("longpw")
    registered = client.post("/auth/register", json={"name": "Long", "email": email, "password": password})
    assert registered.status_code == 201, registered.text
    logged_in = client.post("/auth/login", json={"email": email, "password": password})
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["user"]["user_id"] == registered.json()["user"]["user_id"]


@pytest.mark.parametrize("case", ["100-ascii-bytes", "60-euro-signs-180-bytes", "128-four-byte-emoji"], ids=str)
def test_a_password_that_differs_only_after_byte_72_is_refused(client, case):
    password = LONG_PASSWORDS[case]
    email = unique_email("after72")
    assert client.post("/auth/register", json={"name": "P", "email": email, "password": password}).status_code == 201
    variants = variants_after_byte_72(password)
    assert variants and all(v != password and v.encode()[:72] == password.encode()[:72] for v in variants)
    for variant in variants:
        response = client.post("/auth/login", json={"email": email, "password": variant})
        assert_error(response, 401, "INVALID_CREDENTIALS")


def test_a_password_that_differs_only_after_a_nul_is_refused(client):
    """bcrypt's C API reads up to the first NUL; the pre-hash keeps NULs from truncating."""
    email = unique_email("nul")
    assert (
        client.post(
            "/auth/register", json={"name": "N", "email": email, "password": "same\u0000first-part"}
        ).status_code
        == 201
    )
    for other in ("same\u0000second-part", "same\u0000", "same"):
        response = client.post("/auth/login", json={"email": email, "password": other})
        assert_error(response, 401, "INVALID_CREDENTIALS")


# -- strings that are valid JSON but not Unicode text ------------------------------------------


def send(client, path: str, body: dict):
    """ASCII-escaped JSON, so a lone surrogate travels as the JSON escape `\\ud800`."""
    return client.post(path, content=json.dumps(body).encode(), headers=JSON)


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
def test_a_lone_surrogate_in_a_password_is_400(client, path):
    body = {"email": unique_email("surrogate"), "password": "pass\ud800word"}
    if path == "/auth/register":
        body["name"] = "Surrogate"
    assert_error(send(client, path, body), 400, "INVALID_INPUT")


def test_a_lone_surrogate_in_the_login_email_is_refused_as_not_text(client):
    """Not a malformed email but a body that is not text: refused before any lookup."""
    response = send(client, "/auth/login", {"email": "x\ud800@example.com", "password": "whatever it is"})
    assert_error(response, 400, "INVALID_INPUT")
