"""Finding 1 of the integrity review: the request validator and the handler read different
bodies. A declared legacy charset made the validator decode the bytes one way while the
handler re-parsed them as UTF-8, and duplicate keys (last one wins) let one value pass
validation and another reach the use case: a lender funded 200.00 of a 100.00 loan.

Now the bytes are decoded and parsed once, that object is what is validated and what the
handler gets, JSON bodies are UTF-8 only (415 for any other declared charset), duplicate
keys are refused, and depth limits apply to that one parse."""

import json

import pytest

from conftest import ACH, Account, assert_error, unique_email, write_count
from security_support import borrower, client, lender  # noqa: F401 (fixtures)


def duplicated(first: dict, second: dict) -> str:
    """One JSON object holding each key twice: `first`'s value, then `second`'s."""
    pairs = [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in first.items()]
    pairs += [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in second.items()]
    return "{" + ",".join(pairs) + "}"


def loan_body(lender_email: str, amount: float, contribution: float) -> dict:
    return {
        "amount": amount,
        "interest_rate": 5,
        "term": "12 months",
        "purpose": "p",
        "lenders": [{"email": lender_email, "contribution_amount": contribution}],
    }


# -- the attack as it was run --------------------------------------------------------------


def smuggling_body(valid: list[dict], smuggled: list[dict]) -> bytes:
    """A loan whose `lenders` are `smuggled` when read as UTF-8 and `valid` when read in a
    charset that decodes `\\u0022` before JSON parsing (unicode_escape): then the
    `description` string closes early and a second `lenders` key (last one wins) follows."""
    hidden = json.dumps(valid).replace('"', "\\u0022")
    return (
        '{"amount": 100, "interest_rate": 5, "term": "12 months", "purpose": "p", '
        f'"lenders": {json.dumps(smuggled)}, '
        f'"description": "\\u0022, \\u0022lenders\\u0022: {hidden}, \\u0022description\\u0022: \\u0022"}}'
    ).encode()


@pytest.mark.parametrize("charset", ["unicode_escape", "raw_unicode_escape", "utf-7"])
def test_the_over_funding_attack_is_refused_and_writes_nothing(client, store, borrower, charset):
    """As reported: a contribution of -100.00 passed as 100.00, so that a second lender's
    200.00 later filled (and activated) a loan of 100.00."""
    first, second = Account(client, "First", unique_email("l1")), Account(client, "Second", unique_email("l2"))
    valid = [{"email": first.email, "contribution_amount": 100}, {"email": second.email, "contribution_amount": 200}]
    smuggled = [
        {"email": first.email, "contribution_amount": -100},
        {"email": second.email, "contribution_amount": 200},
    ]
    before = write_count(store)
    response = client.post(
        "/loans",
        content=smuggling_body(valid, smuggled),
        headers={**borrower.headers, "Content-Type": f"application/json;charset={charset}"},
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert write_count(store) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json;charset=unicode_escape",
        "application/json; charset=utf-7",
        "application/json;charset=latin-1",
        "application/json; charset=ISO-8859-1",
        "application/json;charset=cp500",
        "application/json; charset=utf-16",
        'application/json ; charset = "latin-1"',
        "application/json; charset=utf8",
        "application/json; charset=no-such-charset",
        "application/json; charset=utf-8; charset=latin-1",
    ],
)
def test_any_declared_charset_but_utf8_is_415_on_every_body_operation(client, store, borrower, lender, content_type):
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    requests = [
        ("POST", "/auth/register", {}, {"name": "n", "email": unique_email("cs"), "password": "p" * 10}),
        ("POST", "/auth/login", {}, {"email": lender.email, "password": "p" * 10}),
        ("POST", "/loans", borrower.headers, loan_body(lender.email, 100, 100)),
        ("PUT", f"/lender/accept/{loan_id}", lender.headers, ACH),
    ]
    before = write_count(store)
    for method, path, headers, body in requests:
        response = client.request(
            method, path, content=json.dumps(body).encode(), headers={**headers, "Content-Type": content_type}
        )
        assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert write_count(store) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json; charset = Utf-8",
    ],
)
def test_utf8_in_any_spelling_is_accepted(client, content_type):
    body = {"name": "Zoë", "email": unique_email("utf8"), "password": "p" * 10}
    response = client.post(
        "/auth/register", content=json.dumps(body, ensure_ascii=False).encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text
    assert response.json()["user"]["name"] == "Zoë"


# -- duplicate keys ------------------------------------------------------------------------


def test_duplicate_keys_are_refused_wherever_they_are(client, store, borrower, lender):
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    good = loan_body(lender.email, 100, 100)
    cases = [
        ("POST", "/loans", borrower.headers, duplicated(good, {"amount": 5e11})),
        ("POST", "/loans", borrower.headers, duplicated(good, {"interest_rate": -5})),
        (
            "POST",
            "/loans",
            borrower.headers,
            json.dumps(good).replace(
                '"contribution_amount": 100', '"contribution_amount": 100, "contribution_amount": -100'
            ),
        ),
        (
            "POST",
            "/auth/register",
            {},
            duplicated({"name": "n", "email": unique_email("dup"), "password": "p" * 10}, {"password": "pw"}),
        ),
        ("POST", "/auth/login", {}, duplicated({"email": lender.email, "password": "p" * 10}, {"password": "x"})),
        ("PUT", f"/lender/accept/{loan_id}", lender.headers, duplicated(ACH, {"account_number": 123456})),
    ]
    before = write_count(store)
    for method, path, headers, body in cases:
        response = client.request(
            method, path, content=body.encode(), headers={**headers, "Content-Type": "application/json"}
        )
        error = assert_error(response, 400, "INVALID_INPUT")
        assert "duplicate" in error["message"].lower(), error
    assert write_count(store) == before


def test_the_handler_gets_the_object_that_was_validated(client, borrower, lender):
    """A value that passes validation is exactly what the loan is made of: no second reading
    can swap it (here the escaped key would decode to a duplicate only in a legacy charset)."""
    body = loan_body(lender.email, 100, 150)
    body["purpose"] = "\\u0022amount\\u0022"
    response = client.post(
        "/loans", content=json.dumps(body).encode(), headers={**borrower.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    loan = response.json()
    assert (loan["amount"], loan["purpose"]) == (100, "\\u0022amount\\u0022")
    assert loan["participants"][0]["contribution_amount"] == 150


# -- depth ---------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [40, 940, 5000])
def test_deep_nesting_is_400_not_500_even_inside_a_discarded_duplicate(client, depth):
    """The old validator kept the last of two keys and never looked at the first; the
    handler's re-parse hit Python's recursion limit on it (500, before any login)."""
    cases = [
        '{"email": %s, "email": "a@example.com", "password": "p"}' % nested(depth),
        '{"email": "a@example.com", "password": "p", "x": %s}' % nested(depth),
    ]
    for body in cases:
        response = client.post("/auth/login", content=body.encode(), headers={"Content-Type": "application/json"})
        assert_error(response, 400, "INVALID_INPUT")


def test_the_deepest_body_the_contract_allows_still_parses(client, borrower, lender):
    response = borrower.post("/loans", json=loan_body(lender.email, 100, 100))
    assert response.status_code == 201, response.text


def test_a_registered_account_is_not_made_by_a_discarded_password(client):
    """Register with a two-character password smuggled past validation: refused, and the
    email stays free."""
    email = unique_email("smuggle")
    body = duplicated({"name": "n", "email": email, "password": "p" * 10}, {"password": "pw"})
    for content_type in ("application/json", "application/json;charset=unicode_escape"):
        response = client.post("/auth/register", content=body.encode(), headers={"Content-Type": content_type})
        assert response.status_code in (400, 415), response.text
    Account(client, "Real", email)
