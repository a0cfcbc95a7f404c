"""API8 / injection: nothing a client writes is interpreted. SQL, NoSQL, template, script,
JNDI, bidirectional-override, emoji and NUL payloads in every free-text field are stored and
returned exactly as sent (after the documented trim of surrounding white space), always as
JSON, and never crash the server. Every payload below contains a non-blank character and fits
the field lengths, so the contract admits it everywhere.
"""

import json

import pytest

from conftest import ACH, PASSWORD, Account, assert_error, unique_email
from security_support import borrower, client, json_content_type, lender  # noqa: F401 (fixtures)

PAYLOADS = {
    "sql": "' OR 1=1 --",
    "sql-stacked": "'; DROP TABLE users; --",
    "nosql-operator": '{"$gt": ""}',
    "dynamodb-expression": "attribute_exists(password_hash) OR #s = :v",
    "template": "{{7*7}}",
    "template-dollar": "#{7*7} ${7*7} <%= 7*7 %>",
    "script": "<script>alert(1)</script>",
    "html-attribute": '"><img src=x onerror=alert(1)>',
    "jndi": "${jndi:ldap://x}",
    "rtl-override": "invoice\u202egpj.exe",
    "emoji": "Loan 💸🏦 for 👩‍👩‍👧",
    "nul": "before\u0000after",
    "format-string": "%s%s%n%x",
    "path": "../../etc/passwd",
    "crlf": "first\r\nX-Injected: yes",
    "padded": "   padded on both sides\t ",
}


def expected(payload: str) -> str:
    """What the server keeps: the value with surrounding ASCII white space removed (every
    payload here only has ASCII white space at its ends, which every notion of trim removes)."""
    return payload.strip(" \t\r\n")


def assert_json(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert json_content_type(response) == "application/json", response.headers
    return response.json()


def send(client, method: str, path: str, body: dict, headers: dict | None = None):
    """The body serialised with ASCII escapes, so every payload, NUL included, reaches the
    server as JSON text the way most clients send it."""
    return client.request(
        method, path, content=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


@pytest.mark.parametrize("name", list(PAYLOADS), ids=str)
def test_payload_round_trips_verbatim_in_every_text_field(client, store, borrower, lender, name):
    payload, kept = PAYLOADS[name], expected(PAYLOADS[name])

    # name: registration, profile, the stored item, and the borrower_name lenders see.
    author = Account(client, payload, unique_email("inject"))
    assert author.user["name"] == kept
    assert assert_json(author.get("/user/profile"), 200)["name"] == kept
    stored_user = store.db.client.get_item(
        TableName=store.db.names.users, Key={"user_id": author.user_id}, ConsistentRead=True
    )["Item"]
    assert stored_user["name"] == kept

    # purpose and description: creation, reads by the borrower and by the lender, lists, storage.
    created = assert_json(
        send(
            client,
            "POST",
            "/loans",
            {
                "amount": 100,
                "interest_rate": 5,
                "term": "12 months",
                "purpose": payload,
                "description": payload,
                "lenders": [{"email": lender.email, "contribution_amount": 100}],
            },
            author.headers,
        ),
        201,
    )
    loan_id = created["loan_id"]
    for view in (
        created,
        assert_json(author.get(f"/loans/{loan_id}"), 200),
        assert_json(lender.get(f"/loans/{loan_id}"), 200),
    ):
        assert (view["purpose"], view["description"], view["borrower_name"]) == (kept, kept, kept)
    listed = assert_json(author.get("/loans/my-loans"), 200)["items"]
    assert [(i["purpose"], i["description"]) for i in listed] == [(kept, kept)]
    pending = {
        i["loan_id"]: i["loan"] for i in assert_json(lender.get("/lender/pending", params={"limit": 100}), 200)["items"]
    }
    assert (pending[loan_id]["purpose"], pending[loan_id]["description"]) == (kept, kept)
    stored_loan = store.db.client.get_item(
        TableName=store.db.names.loans, Key={"loan_id": loan_id}, ConsistentRead=True
    )["Item"]
    assert (stored_loan["purpose"], stored_loan["description"]) == (kept, kept)

    # bank_name and special_instructions: accepted; bank_name comes back in the ACH summary
    # (special_instructions is never returned by the contract).
    accepted = assert_json(
        send(
            client,
            "PUT",
            f"/lender/accept/{loan_id}",
            {**ACH, "bank_name": payload, "special_instructions": payload},
            lender.headers,
        ),
        200,
    )
    assert accepted["ach"]["bank_name"] == kept
    assert assert_json(author.get(f"/loans/{loan_id}"), 200)["status"] == "ACTIVE"


def test_payloads_in_credentials_are_just_wrong_credentials(client):
    for payload in PAYLOADS.values():
        for body in (
            {"email": payload, "password": "whatever it is"},
            {"email": unique_email("x"), "password": payload},
        ):
            response = send(client, "POST", "/auth/login", body)
            assert_error(response, 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"$gt": ""}, "password": {"$gt": ""}},
        {"email": {"$ne": None}, "password": "x"},
        {"email": ["a@example.com"], "password": "x"},
        {"email": "a@example.com", "password": {"$regex": ".*"}},
        {"email": "a@example.com", "password": True},
        {"email": {"S": "a@example.com"}, "password": "x"},
    ],
    ids=["gt-both", "ne", "list", "regex", "boolean", "dynamodb-attribute-value"],
)
def test_operator_objects_in_credentials_are_400(client, body):
    assert_error(send(client, "POST", "/auth/login", body), 400, "INVALID_INPUT")


def test_operator_objects_in_loan_fields_are_400(borrower, lender):
    base = {
        "amount": 100,
        "interest_rate": 5,
        "term": "12 months",
        "purpose": "p",
        "lenders": [{"email": lender.email, "contribution_amount": 100}],
    }
    for field, value in (
        ("purpose", {"$gt": ""}),
        ("description", ["a"]),
        ("amount", {"N": "100"}),
        ("amount", "100"),
        ("term", {"S": "12 months"}),
        ("lenders", {"$where": "1"}),
    ):
        response = send(borrower.client, "POST", "/loans", {**base, field: value}, borrower.headers)
        assert_error(response, 400, "INVALID_INPUT")


PATH_PAYLOADS = {
    # raw path segment -> the status GET /loans/{segment} must get
    "' OR 1=1 --": 400,
    "{{7*7}}": 400,
    "<script>": 400,
    "${jndi:ldap://x}": 404,  # its "//" makes more path segments: no such route
    "%00": 400,
    "..%2F..%2Fuser%2Fprofile": 404,  # decoded to slashes: no such route, not the profile
}


@pytest.mark.parametrize("raw", list(PATH_PAYLOADS), ids=str)
def test_payloads_in_path_and_query_are_refused(borrower, raw):
    status = PATH_PAYLOADS[raw]
    response = borrower.get(f"/loans/{raw}")
    assert_error(response, status, "INVALID_INPUT" if status == 400 else "NOT_FOUND")
    assert "<script>" not in response.text and borrower.email not in response.text
    for name in ("limit", "cursor"):
        response = borrower.get("/loans/my-loans", params={name: raw})
        assert_error(response, 400, "INVALID_INPUT")
        assert "<script>" not in response.text


@pytest.mark.parametrize("field", ["name", "purpose"])
def test_a_lone_surrogate_is_400(client, borrower, lender, field):
    if field == "name":
        response = send(
            client,
            "POST",
            "/auth/register",
            {"name": "x\ud800y", "email": unique_email("surrogate"), "password": PASSWORD},
        )
    else:
        response = send(
            client,
            "POST",
            "/loans",
            {
                "amount": 100,
                "interest_rate": 5,
                "term": "12 months",
                "purpose": "x\ud800y",
                "lenders": [{"email": lender.email, "contribution_amount": 100}],
            },
            borrower.headers,
        )
    assert_error(response, 400, "INVALID_INPUT")
