"""API3 Broken object property level authorization (mass assignment): a client cannot set a
property the server owns (state, money, ownership, roles, ids, hashes) by adding it to a
request body. Every request schema is `additionalProperties: false`, so each such body is
refused whole with 400 INVALID_INPUT and nothing at all is written."""

import uuid

import pytest

from conftest import ACH, PASSWORD, assert_error, unique_email, write_count
from security_support import borrower, client, lender  # noqa: F401 (fixtures)

SOMEONE_ELSE = str(uuid.uuid4())
A_TIMESTAMP = "2020-01-01T00:00:00.000000Z"


def loan_body(lender_email: str, **extra) -> dict:
    return {
        "amount": 1000,
        "interest_rate": 5,
        "term": "12 months",
        "purpose": "Mass assignment",
        "lenders": [{"email": lender_email, "contribution_amount": 1000}],
        **extra,
    }


def assert_refused_as_extra(response, field: str) -> None:
    body = assert_error(response, 400, "INVALID_INPUT")
    assert body["details"]["rule"] == "additionalProperties", body
    assert field in body["message"], body


LOAN_FIELDS = {
    "status": "ACTIVE",
    "total_funded": 1000,
    "borrower_id": SOMEONE_ELSE,
    "loan_id": SOMEONE_ELSE,
    "activated_at": A_TIMESTAMP,
    "created_at": A_TIMESTAMP,
    "borrower_name": "Someone Else",
    "remaining_amount": 0,
    "participants": [],
}


@pytest.mark.parametrize("field", list(LOAN_FIELDS), ids=str)
def test_server_owned_loan_fields_are_refused(store, borrower, lender, field):
    before = write_count(store)
    response = borrower.post("/loans", json=loan_body(lender.email, **{field: LOAN_FIELDS[field]}))
    assert_refused_as_extra(response, field)
    assert write_count(store) == before


LENDER_ENTRY_FIELDS = {
    "lender_id": SOMEONE_ELSE,
    "status": "ACCEPTED",
    "funded_amount": 1000,
    "registered": True,
}


@pytest.mark.parametrize("field", list(LENDER_ENTRY_FIELDS), ids=str)
def test_server_owned_participant_fields_in_an_invitation_are_refused(store, borrower, lender, field):
    body = loan_body(lender.email)
    body["lenders"][0][field] = LENDER_ENTRY_FIELDS[field]
    before = write_count(store)
    response = borrower.post("/loans", json=body)
    assert_refused_as_extra(response, field)
    assert response.json()["details"]["field"] == "lenders.0"
    assert write_count(store) == before


REGISTER_FIELDS = {
    "is_lender": True,
    "is_borrower": True,
    "user_id": SOMEONE_ELSE,
    "password_hash": "$2b$04$" + "a" * 53,
    "created_at": A_TIMESTAMP,
    "status": "ACTIVE",
    "user_type": "ACTIVE_LENDER",
}


@pytest.mark.parametrize("field", list(REGISTER_FIELDS), ids=str)
def test_server_owned_user_fields_are_refused_at_registration(client, store, field):
    email = unique_email("massassign")
    before = write_count(store)
    response = client.post(
        "/auth/register", json={"name": "Mallory", "email": email, "password": PASSWORD, field: REGISTER_FIELDS[field]}
    )
    assert_refused_as_extra(response, field)
    assert write_count(store) == before
    assert_error(client.post("/auth/login", json={"email": email, "password": PASSWORD}), 401, "INVALID_CREDENTIALS")


def test_registering_with_a_victims_user_id_leaves_the_victim_untouched(client, store, lender):
    before = lender.get("/user/profile").json()
    response = client.post(
        "/auth/register",
        json={"name": "Mallory", "email": unique_email("mallory"), "password": PASSWORD, "user_id": lender.user_id},
    )
    assert_refused_as_extra(response, "user_id")
    assert lender.get("/user/profile").json() == before


ACCEPT_FIELDS = {
    "funded_amount": 1,
    "status": "ACCEPTED",
    "lender_id": SOMEONE_ELSE,
    "contribution_amount": 1,
    "loan_id": SOMEONE_ELSE,
    "total_funded": 1000,
}


@pytest.mark.parametrize("field", list(ACCEPT_FIELDS), ids=str)
def test_server_owned_fields_are_refused_at_acceptance(store, borrower, lender, field):
    loan = borrower.create_loan([(lender.email, 600)], amount=500)
    before = write_count(store)

    response = lender.put(f"/lender/accept/{loan['loan_id']}", json={**ACH, field: ACCEPT_FIELDS[field]})

    assert_refused_as_extra(response, field)
    assert write_count(store) == before
    seen = borrower.get(f"/loans/{loan['loan_id']}").json()
    assert (seen["status"], seen["total_funded"]) == ("PENDING", 0)
    assert [(p["status"], p["funded_amount"]) for p in seen["participants"]] == [("PENDING", 0)]
    # Refused, not consumed: the genuine acceptance still works, for what the server decides.
    accepted = lender.accept(loan["loan_id"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["participation"]["funded_amount"] == 500
    assert accepted.json()["participation"]["lender_id"] == lender.user_id


def test_login_accepts_no_extra_properties(client, lender):
    """Login bodies are closed too: nothing a client adds can steer which account logs in."""
    response = client.post("/auth/login", json={"email": lender.email, "password": PASSWORD, "user_id": SOMEONE_ELSE})
    assert_refused_as_extra(response, "user_id")


def test_ach_fields_the_server_derives_are_refused(store, borrower, lender):
    """The masked numbers are computed by the server, never taken from the client."""
    loan = borrower.create_loan([(lender.email, 100)], amount=100)
    before = write_count(store)
    for field, value in (("account_number_masked", "****0000"), ("routing_number_masked", "*****0000")):
        response = lender.put(f"/lender/accept/{loan['loan_id']}", json={**ACH, field: value})
        assert_refused_as_extra(response, field)
    assert write_count(store) == before
