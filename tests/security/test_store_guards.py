"""DynamoDB holds the funding invariants on its own: an acceptance written through the store
with a forged `Funding` (built without the domain's checks, as a bug or a bypassed layer
would) is refused by the transaction's conditions, and nothing changes."""

from dataclasses import fields
from decimal import Decimal

import pytest

from service.domain.ach import AchDetails
from service.domain.funding import Funding
from service.domain.lifecycle import LoanStatus, ParticipantStatus
from service.domain.loans import Loan, Participant
from service.usecases.ports import LostRace

from conftest import ACH
from security_support import client  # noqa: F401 (fixture)

D = Decimal
ACTIVE, PENDING, ACCEPTED = LoanStatus.ACTIVE, LoanStatus.PENDING, ParticipantStatus.ACCEPTED
NOW = "2026-12-01T00:00:00.000000Z"
SEALED = {
    "routing_number_masked": "*****0015",
    "account_number_masked": "********6789",
    "sealed_numbers": b"x",
    "sealed_data_key": b"k",
    "kms_key_arn": "arn:test",
}


def forge(cls, source, **changes):
    """A frozen dataclass with `changes`, made without running its invariant checks."""
    forged = object.__new__(cls)
    for field in fields(cls):
        value = changes[field.name] if field.name in changes else getattr(source, field.name)
        object.__setattr__(forged, field.name, value)
    return forged


def forged_funding(loan: Loan, participant: Participant, funded: str, status: str) -> Funding:
    funded_loan = forge(
        Loan,
        loan,
        total_funded=loan.total_funded + D(funded),
        status=status,
        activated_at=NOW if status == ACTIVE else None,
    )
    accepted = forge(Participant, participant, status=ACCEPTED, funded_amount=D(funded), responded_at=NOW)
    return forge(Funding, None, loan=funded_loan, participant=accepted)


def record(store, funding: Funding) -> None:
    """What the acceptance use case writes, in one unit of work."""
    uow = store.unit_of_work()
    uow.loans.record_funding(funding, [])
    uow.participants.record_acceptance(funding.participant)
    uow.ach.add(funding.participant, AchDetails(**ACH), SEALED)
    uow.commit()


def raw_state(store, loan_id: str, lender_id: str) -> tuple:
    loan = store.db.client.get_item(TableName=store.db.names.loans, Key={"loan_id": loan_id}, ConsistentRead=True)[
        "Item"
    ]
    participant = store.db.client.get_item(
        TableName=store.db.names.participants, ConsistentRead=True, Key={"loan_id": loan_id, "lender_id": lender_id}
    )["Item"]
    ach = store.db.client.get_item(
        TableName=store.db.names.ach_details, ConsistentRead=True, Key={"user_id": lender_id, "loan_id": loan_id}
    ).get("Item")
    return loan, participant, ach


@pytest.fixture
def invited(register):
    """A loan of 100.00 (one lender invited for 60.00, another for 100.00), as stored."""
    borrower, first, second = register("borrower"), register("first"), register("second")
    loan = borrower.create_loan([(first.email, 60), (second.email, 100)], amount=100)
    return loan["loan_id"], first, second


@pytest.mark.parametrize(
    ("funded", "status"),
    [
        ("200.00", ACTIVE),  # the review's over-funding: 200 of 100, claimed complete
        ("200.00", PENDING),  # the same, claimed still open
        ("100.00", PENDING),  # exactly the amount, without activating the loan
        ("60.00", ACTIVE),  # activating a loan that is not fully funded
        ("-50.00", PENDING),  # a negative funding
        ("0.00", PENDING),  # nothing at all
        ("60.01", PENDING),  # more than this lender's invited contribution
    ],
)
def test_a_forged_funding_is_refused_by_dynamodb(store, invited, funded, status):
    loan_id, first, _ = invited
    found = store.unit_of_work().membership(loan_id, first.user_id)
    before = raw_state(store, loan_id, first.user_id)
    funding = forged_funding(found.loan, found.participant, funded, status)
    with pytest.raises(LostRace):
        record(store, funding)
    assert raw_state(store, loan_id, first.user_id) == before


def test_a_forged_second_funding_cannot_push_a_loan_past_its_amount(store, invited):
    """After a real 60.00, a forged 60.00 from the second lender would make 120.00 of 100.00."""
    loan_id, first, second = invited
    assert first.accept(loan_id).status_code == 200
    found = store.unit_of_work().membership(loan_id, second.user_id)
    before = raw_state(store, loan_id, second.user_id)
    for status in (PENDING, ACTIVE):
        with pytest.raises(LostRace):
            record(store, forged_funding(found.loan, found.participant, "60.00", status))
    assert raw_state(store, loan_id, second.user_id) == before
    loan = before[0]
    assert (loan["total_funded"], loan["remaining"], loan["status"]) == (D(60), D(40), PENDING)


def test_the_guard_reports_what_it_found(store, invited):
    """The refusal carries the loan and participation as DynamoDB found them, so the use case
    can decide again without reading them back."""
    loan_id, first, _ = invited
    found = store.unit_of_work().membership(loan_id, first.user_id)
    with pytest.raises(LostRace) as lost:  # 60.00 would not complete a loan of 100.00
        record(store, forged_funding(found.loan, found.participant, "60.00", ACTIVE))
    assert lost.value.loan == found.loan
