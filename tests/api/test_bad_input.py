"""Bad input gets a 4xx in the contract's error shape and writes nothing.

"Writes nothing" is proved twice: the five tables hold exactly as many items afterwards
(COUNT scans, in this test only), and the specific records the request would have created
or changed are absent or unchanged.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from service.http.routing import load_spec

from conftest import ACH, PASSWORD, assert_error, unique_email, write_count

SPEC = load_spec()
MAX_LENDERS = SPEC["components"]["schemas"]["CreateLoanRequest"]["properties"]["lenders"]["maxItems"]
MAX_BODY_BYTES = 64 * 1024


# -- what the store holds --------------------------------------------------------------


def users_with_email(store, email: str) -> list[dict]:
    return store.db.client.query(
        TableName=store.db.names.users,
        IndexName="email-index",
        KeyConditionExpression=Key("email").eq(email.lower()),
    )["Items"]


def ach_record(store, user_id: str, loan_id: str) -> dict | None:
    return store.db.client.get_item(
        TableName=store.db.names.ach_details,
        Key={"user_id": user_id, "loan_id": loan_id},
        ConsistentRead=True,
    ).get("Item")


# -- building requests ------------------------------------------------------------------

LITERAL = "@@literal@@"


def with_literal(body: dict, literal: str, *path) -> bytes:
    """`body` as JSON text with the value at `path` replaced by a raw literal (NaN, 1e400)."""
    body = json.loads(json.dumps(body))
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = LITERAL
    return json.dumps(body).replace(f'"{LITERAL}"', literal).encode()


def without(body: dict, *path) -> dict:
    body = json.loads(json.dumps(body))
    target = body
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return body


def setting(body: dict, value: Any, *path) -> dict:
    body = json.loads(json.dumps(body))
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


@dataclass
class Case:
    """`make(good_body, ctx)` returns the body to send: a JSON value, or raw bytes."""

    id: str
    make: Callable[[dict, Any], Any]
    status: int = 400
    code: str = "INVALID_INPUT"
    content_type: str | None = "application/json"
    marks: tuple = ()

    def param(self):
        return pytest.param(self, id=self.id, marks=self.marks)


def send(client, method: str, path: str, case: Case, good: dict, ctx, headers: dict | None = None):
    body = case.make(good, ctx)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = dict(headers or {})
    if case.content_type:
        headers["Content-Type"] = case.content_type
    return client.request(method, path, content=content, headers=headers)


def body_cases() -> list[Case]:
    """Cases every JSON-bodied operation shares: the body is not a usable JSON object."""
    return [
        Case("malformed-json", lambda g, c: json.dumps(g).encode()[:-1]),
        Case("trailing-garbage", lambda g, c: json.dumps(g).encode() + b" x"),
        Case("single-quoted-json", lambda g, c: b"{'a': 1}"),
        Case("array-instead-of-object", lambda g, c: [g]),
        Case("empty-array", lambda g, c: []),
        Case("string-instead-of-object", lambda g, c: "hello"),
        Case("number-instead-of-object", lambda g, c: 42),
        Case("null-instead-of-object", lambda g, c: None),
        Case("empty-body", lambda g, c: b""),
        Case("invalid-utf8", lambda g, c: b"\xff\xfe"),
        Case("invalid-utf8-inside-string", lambda g, c: json.dumps(g).encode().replace(b"{", b'{"x": "\xff",', 1)),
        Case("nested-60k-under-size-limit", lambda g, c: b"[" * 60_000),
        Case("nested-objects-under-size-limit", lambda g, c: b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
        Case("nested-100k-over-size-limit", lambda g, c: b"[" * 100_000, 413, "PAYLOAD_TOO_LARGE"),
        Case("text-plain-json-body", lambda g, c: g, 415, "UNSUPPORTED_MEDIA_TYPE", content_type="text/plain"),
        Case(
            "form-encoded",
            lambda g, c: b"a=1",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            content_type="application/x-www-form-urlencoded",
        ),
        Case("missing-content-type", lambda g, c: g, 415, "UNSUPPORTED_MEDIA_TYPE", content_type=None),
    ]


def amount_cases(field: str, *path) -> list[Case]:
    """A money field: wrong type, out of range, more than two decimals, non-finite."""
    return [
        Case(f"{field}-as-string", lambda g, c: setting(g, "100", *path)),
        Case(f"{field}-as-bool", lambda g, c: setting(g, True, *path)),
        Case(f"{field}-null", lambda g, c: setting(g, None, *path)),
        Case(f"{field}-negative", lambda g, c: setting(g, -1, *path)),
        Case(f"{field}-zero", lambda g, c: setting(g, 0, *path)),
        Case(f"{field}-too-large", lambda g, c: setting(g, 100000000.01, *path)),
        Case(f"{field}-far-too-large", lambda g, c: setting(g, 100000001, *path)),
        Case(f"{field}-three-decimals", lambda g, c: with_literal(g, "10.005", *path)),
        Case(f"{field}-one-tenth-of-a-cent", lambda g, c: with_literal(g, "0.001", *path)),
        Case(f"{field}-NaN", lambda g, c: with_literal(g, "NaN", *path)),
        Case(f"{field}-Infinity", lambda g, c: with_literal(g, "Infinity", *path)),
        Case(f"{field}-minus-Infinity", lambda g, c: with_literal(g, "-Infinity", *path)),
        Case(f"{field}-1e30", lambda g, c: with_literal(g, "1e30", *path)),
        Case(f"{field}-1e400", lambda g, c: with_literal(g, "1e400", *path)),
        Case(f"{field}-minus-1e400", lambda g, c: with_literal(g, "-1e400", *path)),
        Case(f"{field}-1e-400", lambda g, c: with_literal(g, "1e-400", *path)),
    ]


# -- POST /auth/register ------------------------------------------------------------------


def register_body(email: str) -> dict:
    return {"name": "Ada Lovelace", "email": email, "password": PASSWORD}


REGISTER_CASES = body_cases() + [
    Case("name-as-number", lambda g, c: setting(g, 123, "name")),
    Case("email-as-number", lambda g, c: setting(g, 123, "email")),
    Case("password-as-number", lambda g, c: setting(g, 12345678, "password")),
    Case("name-null", lambda g, c: setting(g, None, "name")),
    Case("missing-name", lambda g, c: without(g, "name")),
    Case("missing-email", lambda g, c: without(g, "email")),
    Case("missing-password", lambda g, c: without(g, "password")),
    Case("unknown-field", lambda g, c: {**g, "role": "admin"}),
    Case("unknown-field-is_lender", lambda g, c: {**g, "is_lender": True}),
    Case("name-empty", lambda g, c: setting(g, "", "name")),
    Case("name-blank", lambda g, c: setting(g, "   ", "name")),
    Case("name-101-chars", lambda g, c: setting(g, "n" * 101, "name")),
    Case("name-10000-chars", lambda g, c: setting(g, "n" * 10_000, "name")),
    Case("name-70000-chars-over-size-limit", lambda g, c: setting(g, "n" * 70_000, "name"), 413, "PAYLOAD_TOO_LARGE"),
    Case("password-7-chars", lambda g, c: setting(g, "x" * 7, "password")),
    Case("password-129-chars", lambda g, c: setting(g, "x" * 129, "password")),
    Case("email-not-an-email", lambda g, c: setting(g, "not-an-email", "email"), code="INVALID_EMAIL"),
    Case("email-no-dot-in-domain", lambda g, c: setting(g, "a@b", "email"), code="INVALID_EMAIL"),
    Case("email-with-space", lambda g, c: setting(g, "a b@example.com", "email"), code="INVALID_EMAIL"),
    Case("email-two-ats", lambda g, c: setting(g, "a@@example.com", "email"), code="INVALID_EMAIL"),
    Case("email-255-chars", lambda g, c: setting(g, "a" * 243 + "@example.com", "email"), code="INVALID_EMAIL"),
    Case("NaN-literal", lambda g, c: with_literal(g, "NaN", "name")),
]


@pytest.mark.parametrize("case", [c.param() for c in REGISTER_CASES])
def test_register_rejects_bad_input_and_writes_nothing(api, store, case):
    email = unique_email("reject")
    before = write_count(store)

    response = send(api, "POST", "/auth/register", case, register_body(email), None)

    assert_error(response, case.status, case.code)
    assert users_with_email(store, email) == []
    assert write_count(store) == before
    login = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert_error(login, 401, "INVALID_CREDENTIALS")


def test_register_body_at_the_size_limit_is_read_and_one_byte_more_is_refused(api, store):
    email = unique_email("limit")
    base = register_body(email) | {"name": ""}
    padding = MAX_BODY_BYTES - len(json.dumps(base).encode())
    before = write_count(store)

    at_limit = json.dumps(base | {"name": "n" * padding}).encode()
    over_limit = json.dumps(base | {"name": "n" * (padding + 1)}).encode()
    assert (len(at_limit), len(over_limit)) == (MAX_BODY_BYTES, MAX_BODY_BYTES + 1)

    # At the limit the body is parsed (and refused for its content, not its size).
    body = assert_error(
        api.post("/auth/register", content=at_limit, headers={"Content-Type": "application/json"}), 400, "INVALID_INPUT"
    )
    assert "name" in json.dumps(body)
    assert_error(
        api.post("/auth/register", content=over_limit, headers={"Content-Type": "application/json"}),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert users_with_email(store, email) == []
    assert write_count(store) == before


def test_oversized_chunked_body_without_content_length_is_refused(api, store):
    email = unique_email("chunked")
    body = json.dumps(register_body(email) | {"name": "n" * 70_000}).encode()

    def chunks():
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    before = write_count(store)
    response = api.post("/auth/register", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert users_with_email(store, email) == []
    assert write_count(store) == before


# -- POST /loans -------------------------------------------------------------------------


def loan_body(lender_email: str) -> dict:
    return {
        "amount": 1000,
        "interest_rate": 6.5,
        "term": "12 months",
        "purpose": "Working capital",
        "description": "Inventory",
        "lenders": [{"email": lender_email, "contribution_amount": 1000}],
    }


def lenders(count: int, amount: float = 100) -> list[dict]:
    return [{"email": unique_email(f"l{i}"), "contribution_amount": amount} for i in range(count)]


LOAN_CASES = (
    body_cases()
    + amount_cases("amount", "amount")
    + amount_cases("contribution", "lenders", 0, "contribution_amount")
    + [
        # wrong types
        Case("interest_rate-as-string", lambda g, c: setting(g, "6.5", "interest_rate")),
        Case("term-as-number", lambda g, c: setting(g, 12, "term")),
        Case("purpose-as-number", lambda g, c: setting(g, 5, "purpose")),
        Case("description-as-number", lambda g, c: setting(g, 5, "description")),
        Case("description-null", lambda g, c: setting(g, None, "description")),
        Case("lenders-as-object", lambda g, c: setting(g, {"email": c.lender, "contribution_amount": 1000}, "lenders")),
        Case("lenders-as-string", lambda g, c: setting(g, c.lender, "lenders")),
        Case("lender-entry-as-string", lambda g, c: setting(g, [c.lender], "lenders")),
        Case("lender-email-as-number", lambda g, c: setting(g, 5, "lenders", 0, "email")),
        # missing fields
        *[
            Case(f"missing-{field}", lambda g, c, f=field: without(g, f))
            for field in ("amount", "interest_rate", "term", "purpose", "lenders")
        ],
        Case("missing-lender-email", lambda g, c: without(g, "lenders", 0, "email")),
        Case("missing-lender-contribution", lambda g, c: without(g, "lenders", 0, "contribution_amount")),
        # unknown fields
        Case("unknown-field", lambda g, c: {**g, "status": "ACTIVE"}),
        Case("unknown-field-total_funded", lambda g, c: {**g, "total_funded": 1000}),
        Case("unknown-field-in-lender", lambda g, c: setting(g, "x", "lenders", 0, "lender_id")),
        # business ranges
        Case(
            "contributions-below-amount",
            lambda g, c: {
                **g,
                "lenders": [
                    {"email": c.lender, "contribution_amount": 600},
                    {"email": unique_email("other"), "contribution_amount": 399.99},
                ],
            },
            code="INVALID_AMOUNT",
        ),
        Case("interest_rate-negative", lambda g, c: setting(g, -1, "interest_rate")),
        Case("interest_rate-over-100", lambda g, c: setting(g, 100.01, "interest_rate")),
        Case("interest_rate-three-decimals", lambda g, c: with_literal(g, "6.555", "interest_rate")),
        Case("interest_rate-NaN", lambda g, c: with_literal(g, "NaN", "interest_rate")),
        Case("term-0-months", lambda g, c: setting(g, "0 months", "term")),
        Case("term-1-months", lambda g, c: setting(g, "1 months", "term")),
        Case("term-361-months", lambda g, c: setting(g, "361 months", "term")),
        Case("term-in-weeks", lambda g, c: setting(g, "12 weeks", "term")),
        Case("purpose-empty", lambda g, c: setting(g, "", "purpose")),
        Case("purpose-blank", lambda g, c: setting(g, "   ", "purpose")),
        Case("purpose-201-chars", lambda g, c: setting(g, "p" * 201, "purpose")),
        Case("description-2001-chars", lambda g, c: setting(g, "d" * 2001, "description")),
        Case(
            "description-100000-chars", lambda g, c: setting(g, "d" * 100_000, "description"), 413, "PAYLOAD_TOO_LARGE"
        ),
        # lender emails
        Case(
            "lender-email-not-an-email",
            lambda g, c: setting(g, "not-an-email", "lenders", 0, "email"),
            code="INVALID_EMAIL",
        ),
        Case(
            "lender-email-no-dot-in-domain", lambda g, c: setting(g, "a@b", "lenders", 0, "email"), code="INVALID_EMAIL"
        ),
        Case(
            "duplicate-lender-emails",
            lambda g, c: setting(g, [{"email": c.lender, "contribution_amount": 500}] * 2, "lenders"),
        ),
        Case(
            "duplicate-lender-emails-differing-in-case",
            lambda g, c: setting(
                g,
                [
                    {"email": c.lender, "contribution_amount": 500},
                    {"email": c.lender.upper(), "contribution_amount": 500},
                ],
                "lenders",
            ),
        ),
        Case("borrower-invites-themself", lambda g, c: setting(g, c.borrower, "lenders", 0, "email")),
        Case(
            "borrower-invites-themself-upper-case", lambda g, c: setting(g, c.borrower.upper(), "lenders", 0, "email")
        ),
        Case(
            "borrower-among-other-lenders",
            lambda g, c: setting(
                g,
                [
                    {"email": c.lender, "contribution_amount": 1000},
                    {"email": c.borrower.title(), "contribution_amount": 10},
                ],
                "lenders",
            ),
        ),
        Case("empty-lenders", lambda g, c: setting(g, [], "lenders")),
        Case(f"{MAX_LENDERS + 1}-lenders", lambda g, c: setting(g, lenders(MAX_LENDERS + 1), "lenders")),
    ]
)


@pytest.fixture
def parties(register):
    borrower, lender = register("borrower"), register("lender")
    return SimpleNamespace(
        borrower_account=borrower, lender_account=lender, borrower=borrower.email, lender=lender.email
    )


@pytest.mark.parametrize("case", [c.param() for c in LOAN_CASES])
def test_create_loan_rejects_bad_input_and_writes_nothing(api, store, parties, case):
    borrower, lender = parties.borrower_account, parties.lender_account
    before = write_count(store)

    response = send(api, "POST", "/loans", case, loan_body(lender.email), parties, headers=borrower.headers)

    assert_error(response, case.status, case.code)
    assert write_count(store) == before
    assert borrower.get("/loans/my-loans").json() == {"items": [], "next_cursor": None}
    assert borrower.get("/user/profile").json()["is_borrower"] is False
    assert lender.get("/lender/pending").json() == {"items": [], "next_cursor": None}
    assert lender.get("/user/profile").json()["is_lender"] is False


# -- PUT /lender/accept/{loan_id} -----------------------------------------------------------


ACCEPT_CASES = body_cases() + [
    # wrong types
    Case("routing_number-as-number", lambda g, c: setting(g, 11000015, "routing_number")),
    Case("account_number-as-number", lambda g, c: setting(g, 123456789, "account_number")),
    Case("account_type-as-number", lambda g, c: setting(g, 1, "account_type")),
    Case("bank_name-null", lambda g, c: setting(g, None, "bank_name")),
    # missing fields
    *[
        Case(f"missing-{field}", lambda g, c, f=field: without(g, f))
        for field in ("bank_name", "account_type", "routing_number", "account_number")
    ],
    # unknown fields
    Case("unknown-field-funded_amount", lambda g, c: {**g, "funded_amount": 1000}),
    Case("unknown-field-status", lambda g, c: {**g, "status": "ACCEPTED"}),
    # bank details
    Case("routing-wrong-checksum", lambda g, c: setting(g, "011000016", "routing_number")),
    Case("routing-8-digits", lambda g, c: setting(g, "01100001", "routing_number")),
    Case("routing-10-digits", lambda g, c: setting(g, "0110000150", "routing_number")),
    Case("routing-letters", lambda g, c: setting(g, "01100001A", "routing_number")),
    Case("routing-non-ascii-digits", lambda g, c: setting(g, "٠١١٠٠٠٠١٥", "routing_number")),
    Case("account-3-digits", lambda g, c: setting(g, "123", "account_number")),
    Case("account-18-digits", lambda g, c: setting(g, "1" * 18, "account_number")),
    Case("account-letters", lambda g, c: setting(g, "00012345678X", "account_number")),
    Case("account-with-spaces", lambda g, c: setting(g, "0001 2345 6789", "account_number")),
    Case("account_type-brokerage", lambda g, c: setting(g, "brokerage", "account_type")),
    Case("account_type-upper-case", lambda g, c: setting(g, "CHECKING", "account_type")),
    Case("bank_name-empty", lambda g, c: setting(g, "", "bank_name")),
    Case("bank_name-blank", lambda g, c: setting(g, "   ", "bank_name")),
    Case("bank_name-101-chars", lambda g, c: setting(g, "b" * 101, "bank_name")),
    Case("special_instructions-501-chars", lambda g, c: {**g, "special_instructions": "s" * 501}),
    Case(
        "special_instructions-100000-chars",
        lambda g, c: {**g, "special_instructions": "s" * 100_000},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
]


@pytest.fixture
def invitation(register):
    borrower, lender = register("borrower"), register("lender")
    loan = borrower.create_loan([(lender.email, 1000)], amount=1000)
    return SimpleNamespace(borrower=borrower, lender=lender, loan_id=loan["loan_id"])


def assert_not_accepted(store, invitation) -> None:
    loan = invitation.borrower.get(f"/loans/{invitation.loan_id}").json()
    assert (loan["status"], loan["total_funded"]) == ("PENDING", 0)
    assert [(p["status"], p["funded_amount"], p["responded_at"]) for p in loan["participants"]] == [
        ("PENDING", 0, None)
    ]
    pending = invitation.lender.get("/lender/pending").json()["items"]
    assert [item["loan_id"] for item in pending] == [invitation.loan_id]
    assert ach_record(store, invitation.lender.user_id, invitation.loan_id) is None


@pytest.mark.parametrize("case", [c.param() for c in ACCEPT_CASES])
def test_accept_rejects_bad_input_and_writes_nothing(api, store, invitation, case):
    before = write_count(store)

    response = send(
        api, "PUT", f"/lender/accept/{invitation.loan_id}", case, dict(ACH), None, headers=invitation.lender.headers
    )

    assert_error(response, case.status, case.code)
    assert write_count(store) == before
    assert_not_accepted(store, invitation)


@pytest.mark.parametrize(
    "loan_id",
    [
        pytest.param("not-a-uuid", id="word"),
        pytest.param("12345", id="number"),
        pytest.param(str(uuid.uuid4()).upper(), id="upper-case-uuid"),
        pytest.param(uuid.uuid4().hex, id="uuid-without-dashes"),
        pytest.param(str(uuid.uuid4()) + "0", id="uuid-one-char-too-long"),
        pytest.param("%00", id="nul"),
    ],
)
def test_invalid_loan_id_in_path_is_400(api, store, invitation, loan_id):
    before = write_count(store)
    assert_error(invitation.lender.get(f"/loans/{loan_id}"), 400, "INVALID_INPUT")
    assert_error(invitation.lender.accept(loan_id), 400, "INVALID_INPUT")
    assert write_count(store) == before
    assert_not_accepted(store, invitation)


# -- list parameters ---------------------------------------------------------------------

LIST_PATHS = [pytest.param("/loans/my-loans", id="my-loans"), pytest.param("/lender/pending", id="pending")]


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": 0}, id="limit-0"),
        pytest.param({"limit": 101}, id="limit-101"),
        pytest.param({"limit": -1}, id="limit-negative"),
        pytest.param({"limit": "abc"}, id="limit-abc"),
        pytest.param({"limit": "1.5"}, id="limit-fraction"),
        pytest.param({"limit": ""}, id="limit-empty"),
        pytest.param({"cursor": ""}, id="cursor-empty"),
        pytest.param({"cursor": "!!!"}, id="cursor-not-base64url"),
        pytest.param({"cursor": "a" * 2049}, id="cursor-too-long"),
        pytest.param({"cursor": "abc"}, id="cursor-forged-short"),
        pytest.param({"cursor": "A" * 64}, id="cursor-forged-long"),
        pytest.param({"cursor": "eyJsb2FuX2lkIjogIngifQ"}, id="cursor-unsigned-json"),
    ],
)
def test_bad_list_parameters_are_400(register, path, params):
    user = register("lister")
    assert_error(user.get(path, params=params), 400, "INVALID_INPUT")


def test_cursor_of_another_list_or_user_is_refused(register):
    alice, bob, lender = register("alice"), register("bob"), register("lender")
    for _ in range(2):
        alice.create_loan([(lender.email, 100)], amount=100)
        bob.create_loan([(lender.email, 100)], amount=100)
    alices = alice.get("/loans/my-loans", params={"limit": 1}).json()["next_cursor"]
    pending = lender.get("/lender/pending", params={"limit": 1}).json()["next_cursor"]
    assert alices and pending

    assert_error(bob.get("/loans/my-loans", params={"cursor": alices}), 400, "INVALID_INPUT")
    assert_error(lender.get("/lender/pending", params={"cursor": alices}), 400, "INVALID_INPUT")
    assert_error(lender.get("/loans/my-loans", params={"cursor": pending}), 400, "INVALID_INPUT")
    tampered = alices[:-2] + ("AA" if alices[-2:] != "AA" else "BB")
    assert_error(alice.get("/loans/my-loans", params={"cursor": tampered}), 400, "INVALID_INPUT")
    # The genuine cursor still works for its own list.
    assert alice.get("/loans/my-loans", params={"cursor": alices}).status_code == 200


# -- valid edge values are accepted ------------------------------------------------------


@pytest.mark.parametrize(
    "amount, contribution",
    [
        pytest.param(0.01, 0.01, id="minimum-amount-0.01"),
        pytest.param(0.07, 0.07, id="amount-0.07"),
        pytest.param(1000, 0.01, id="contribution-0.01"),
        pytest.param(100000000, 100000000, id="maximum-amount-100000000"),
        pytest.param(99999999.99, 99999999.99, id="amount-99999999.99"),
        pytest.param(10.1, 10.1, id="amount-10.1"),
    ],
)
def test_edge_amounts_are_accepted_exactly(register, amount, contribution):
    borrower, lender = register("borrower"), register("lender")
    body = {
        "amount": amount,
        "interest_rate": 6.5,
        "term": "12 months",
        "purpose": "Edge",
        "lenders": [{"email": lender.email, "contribution_amount": contribution}],
    }
    if contribution < amount:
        body["lenders"].append({"email": unique_email("rest"), "contribution_amount": amount})

    created = borrower.post("/loans", json=body)
    assert created.status_code == 201, created.text
    loan = created.json()
    assert loan["amount"] == amount and loan["remaining_amount"] == amount
    assert {p["email"]: p["contribution_amount"] for p in loan["participants"]}[lender.email] == contribution

    accepted = lender.accept(loan["loan_id"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["loan"]["total_funded"] == contribution
    assert accepted.json()["loan"]["status"] == ("ACTIVE" if contribution == amount else "PENDING")


@pytest.mark.parametrize("count", sorted({25, MAX_LENDERS}), ids=lambda n: f"{n}-lenders")
def test_many_lenders_up_to_the_maximum_are_accepted(register, count):
    borrower = register("borrower")
    known = register("known")
    invited = [{"email": known.email, "contribution_amount": 100}] + lenders(count - 1)
    response = borrower.post(
        "/loans",
        json={"amount": 100 * count, "interest_rate": 5, "term": "1 month", "purpose": "Many", "lenders": invited},
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["participants"]) == count
    assert [i["loan_id"] for i in known.get("/lender/pending").json()["items"]] == [response.json()["loan_id"]]


def test_long_unicode_password_registers_logs_in_and_every_character_counts(api):
    email = unique_email("unicode")
    password = "ü" * 60  # 120 bytes in UTF-8: past bcrypt's 72-byte input limit
    registered = api.post("/auth/register", json={"name": "Ü", "email": email, "password": password})
    assert registered.status_code == 201, registered.text

    login = api.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    assert login.json()["user"]["email"] == email

    # Same first 72 bytes, different tail: a truncating hash would let this in.
    same_prefix = "ü" * 36 + "x" * 24
    assert_error(api.post("/auth/login", json={"email": email, "password": same_prefix}), 401, "INVALID_CREDENTIALS")


def test_register_body_sent_chunked_without_content_length_is_read(api, store):
    email = unique_email("chunked")
    body = json.dumps(register_body(email)).encode()
    response = api.post(
        "/auth/register", content=iter([body[:10], body[10:]]), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert [item["user_id"] for item in users_with_email(store, email)] == [response.json()["user"]["user_id"]]


@pytest.mark.parametrize("email", ["\u000b", "   ", "\t\n"], ids=repr)
def test_a_login_whose_email_is_only_white_space_is_refused_like_a_wrong_one(api, email) -> None:
    response = api.post("/auth/login", json={"email": email, "password": "whatever-password"})
    assert_error(response, 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("document", [b"null", b" null\n"], ids=repr)
def test_a_json_null_body_is_not_an_absent_one(register, document) -> None:
    """`null` is a JSON document, not an empty body: an optional body's schema refuses it (it
    once passed as no body and cancelled the loan), and a required one says what is wrong."""
    borrower, lender = register("borrower"), register("lender")
    loan = borrower.create_loan([(lender.email, 100)], amount=100)
    json_type = {"Authorization": borrower.headers["Authorization"], "Content-Type": "application/json"}

    cancel = borrower.client.post(f"/loans/{loan['loan_id']}/cancel", content=document, headers=json_type)
    invite = borrower.client.post(f"/loans/{loan['loan_id']}/invitations", content=document, headers=json_type)

    assert assert_error(cancel, 400, "INVALID_INPUT")["message"] == "'body' must be of type object."
    assert assert_error(invite, 400, "INVALID_INPUT")["message"] == "'body' must be of type object."
    assert borrower.get(f"/loans/{loan['loan_id']}").json()["status"] == "PENDING"
    # An empty body is still an absent one: the optional body may be left out.
    assert borrower.client.post(f"/loans/{loan['loan_id']}/cancel", headers=json_type).status_code == 200
