"""DynamoDB calls per operation, counted on the app's own boto3 client: the round trips
the README promises (accepting: one read and one transaction; creating a loan with up to 40
lenders: one of each), and no Scan anywhere on a request path."""

from collections import Counter
from contextlib import contextmanager

import pytest

from conftest import PASSWORD, unique_email


@pytest.fixture
def calls(store):
    """Records DynamoDB operation names while the `with` block runs."""

    @contextmanager
    def recording():
        seen: Counter = Counter()

        def record(event_name, **_):
            seen[event_name.rsplit(".", 1)[-1]] += 1

        store.db.client.meta.events.register("before-call.dynamodb", record)
        try:
            yield seen
        finally:
            store.db.client.meta.events.unregister("before-call.dynamodb", record)

    return recording


def test_round_trips_per_operation_and_no_scan(api, register, calls):
    borrower = register("borrower")
    lenders = [register(f"lender{i}") for i in range(3)]
    strangers = [unique_email("stranger") for _ in range(37)]  # 40 lenders in all
    everything: Counter = Counter()

    with calls() as created:
        invited = [(lender.email, 10) for lender in lenders] + [(e, 10) for e in strangers]
        loan = borrower.create_loan(invited, amount=30)
    assert created == {"BatchGetItem": 1, "TransactWriteItems": 1}
    everything += created

    with calls() as accepted:
        assert lenders[0].accept(loan["loan_id"]).status_code == 200
    assert accepted == {"BatchGetItem": 1, "TransactWriteItems": 1}
    everything += accepted

    with calls() as refused:
        assert lenders[0].accept(loan["loan_id"]).status_code == 409
    assert refused == {"BatchGetItem": 1}  # decided on the read; nothing written
    everything += refused

    with calls() as read:
        assert lenders[1].get(f"/loans/{loan['loan_id']}").status_code == 200
    assert read == {"BatchGetItem": 1}
    everything += read

    with calls() as rest:
        assert borrower.get(f"/loans/{loan['loan_id']}").status_code == 200
        assert borrower.get("/loans/my-loans").status_code == 200
        assert lenders[1].get("/lender/pending").status_code == 200
        assert borrower.get("/user/dashboard").status_code == 200
        assert lenders[1].get("/user/profile").status_code == 200
        assert api.post("/auth/login", json={"email": lenders[2].email, "password": PASSWORD}).status_code == 200
        assert (
            api.post("/auth/register", json={"name": "S", "email": strangers[0], "password": PASSWORD}).status_code
            == 201
        )
        assert api.get("/health").status_code == 200
    everything += rest

    with calls() as logged_in:
        assert api.post("/auth/login", json={"email": lenders[2].email, "password": PASSWORD}).status_code == 200
    # The attempt is counted before the password check and given back after it; the email
    # lookup; the invitations still waiting for a verified user; the new session.
    assert logged_in == {"UpdateItem": 2, "Query": 2, "TransactWriteItems": 1}
    everything += logged_in

    assert "Scan" not in everything
    assert set(everything) <= {"GetItem", "Query", "BatchGetItem", "TransactWriteItems", "PutItem", "UpdateItem"}


def test_every_transaction_carries_an_idempotency_token(register, store):
    tokens: list = []

    def record(params, **_):
        tokens.append(params.get("ClientRequestToken"))

    store.db.client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    try:
        borrower, lender = register("borrower"), register("lender")
        loan = borrower.create_loan([(lender.email, 100)], amount=100)
        assert lender.accept(loan["loan_id"]).status_code == 200
    finally:
        store.db.client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", record)
    # 2 registrations, 2 verifications, create, accept
    assert len(tokens) == 6 and all(tokens) and len(set(tokens)) == 6
