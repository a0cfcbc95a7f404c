"""ACH numbers are sealed with KMS envelope encryption before they reach DynamoDB, only
masked in responses, and never logged."""

import logging

import pytest

from service.domain.errors import StoreUnavailable

from conftest import ACH

ROUTING, ACCOUNT = ACH["routing_number"], ACH["account_number"]


def _raw_record(store, user_id: str, loan_id: str) -> dict:
    return store.db.client.get_item(
        TableName=store.db.names.ach_details,
        Key={"user_id": user_id, "loan_id": loan_id},
        ConsistentRead=True,
    )["Item"]


def _contains(item: dict, secret: str) -> bool:
    """Whether `secret` appears in any attribute, text or binary."""
    for value in item.values():
        data = bytes(value) if not isinstance(value, str) else value.encode()
        if secret.encode() in data:
            return True
    return False


@pytest.fixture
def accepted(register):
    borrower, lender = register("borrower"), register("lender")
    loan = borrower.create_loan([(lender.email, 500)], amount=500)
    response = lender.accept(loan["loan_id"])
    assert response.status_code == 200, response.text
    return lender, loan, response


def test_the_table_holds_no_plaintext_number(accepted, store):
    lender, loan, _ = accepted
    item = _raw_record(store, lender.user_id, loan["loan_id"])
    assert not _contains(item, ROUTING) and not _contains(item, ACCOUNT)
    assert "routing_number" not in item and "account_number" not in item
    assert item["account_number_masked"] == "********6789"
    assert item["routing_number_masked"] == "*****0015"
    assert item["kms_key_arn"].startswith("arn:aws:kms:")


def test_only_kms_opens_the_record_and_only_on_its_own_row(accepted, store, services):
    lender, loan, _ = accepted
    item = _raw_record(store, lender.user_id, loan["loan_id"])
    vault = services.vault
    assert vault.open(item) == {"routing_number": ROUTING, "account_number": ACCOUNT}

    # Sealed values copied onto another lender's or loan's record do not open.
    for moved in ({**item, "loan_id": "3f1c9a9e-5b1e-4c8e-9a57-0d6f2b1e7c11"}, {**item, "user_id": "someone-else"}):
        with pytest.raises(StoreUnavailable):
            vault.open(moved)


def test_responses_show_only_masked_numbers(accepted):
    _, _, response = accepted
    assert response.json()["ach"] == {
        "bank_name": ACH["bank_name"],
        "account_type": "checking",
        "routing_number_masked": "*****0015",
        "account_number_masked": "********6789",
    }
    assert ROUTING not in response.text and ACCOUNT not in response.text


def test_numbers_never_reach_the_logs(register, caplog):
    borrower, lender = register("borrower"), register("lender")
    loan = borrower.create_loan([(lender.email, 500)], amount=500)
    with caplog.at_level(logging.DEBUG):
        assert lender.accept(loan["loan_id"]).status_code == 200
        # A refused acceptance (with different numbers) logs nothing of them either.
        refused = lender.accept(loan["loan_id"], routing_number="021000021", account_number="55554444")
        assert refused.status_code == 409
    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert caplog.records, "nothing was logged at all"
    for secret in (ROUTING, ACCOUNT, "021000021", "55554444"):
        assert secret not in logged
