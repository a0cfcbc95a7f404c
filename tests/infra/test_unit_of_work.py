"""The unit of work against DynamoDB (moto, tables from the template): writes queued from
several aggregates commit together or not at all, and a failed condition comes back as the
domain's answer for it."""

from dataclasses import replace
from decimal import Decimal

import pytest

from service.domain import events
from service.domain.errors import UserExists
from service.domain.funding import accept
from service.domain.lifecycle import LoanStatus
from service.domain.loans import Loan
from service.domain.users import User
from service.store.events import event_item
from service.store.unit_of_work import MAX_TRANSACTION_ITEMS, TransactionTooLarge
from service.usecases import new_id
from service.usecases.ports import LostRace

from conftest import unique_email

NOW = "2026-12-01T00:00:00.000000Z"


def a_user(email: str | None = None) -> User:
    return User(user_id=new_id(), email=email or unique_email("uow"), name="Uow", created_at=NOW, email_verified=True)


def a_loan(borrower: User) -> Loan:
    return Loan(
        loan_id=new_id(),
        borrower_id=borrower.user_id,
        borrower_name=borrower.name,
        amount=Decimal(100),
        interest_rate=Decimal(5),
        term="12 months",
        purpose="p",
        description="",
        status=LoanStatus.PENDING,
        total_funded=Decimal(0),
        created_at=NOW,
        funding_deadline="2099-01-01T00:00:00.000000Z",
    )


def stored(store, table: str, key: dict) -> dict | None:
    return store.db.client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def test_writes_from_two_aggregates_commit_together(store):
    user = a_user()
    uow = store.unit_of_work()
    uow.users.add(user, "hash", None)
    loan = a_loan(user)
    uow.loans.add(loan, 0, [])
    uow.commit()
    assert stored(store, store.db.names.users, {"user_id": user.user_id})["name"] == user.name
    assert stored(store, store.db.names.loans, {"loan_id": loan.loan_id})["remaining"] == Decimal(100)


def test_or_not_at_all_and_the_refusal_is_the_domains(store):
    """The second user's email is taken: neither the user nor the loan queued before it is
    written, and the commit answers USER_EXISTS."""
    taken = a_user()
    first = store.unit_of_work()
    first.users.add(taken, "hash", None)
    first.commit()

    borrower = a_user()
    loan = a_loan(borrower)
    uow = store.unit_of_work()
    uow.loans.add(loan, 0, [])
    uow.users.add(a_user(taken.email), "hash", None)
    with pytest.raises(UserExists):
        uow.commit()
    assert stored(store, store.db.names.loans, {"loan_id": loan.loan_id}) is None


def test_a_lost_race_carries_the_item_as_dynamodb_found_it(store, register):
    borrower, lender = register("borrower"), register("lender")
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    assert lender.accept(loan_id).status_code == 200
    found = store.unit_of_work().membership(loan_id, lender.user_id)
    uow = store.unit_of_work()
    uow.users.make_lender(lender.user_id)  # a write that would succeed, queued first
    # A funding decided on a stale read, as if the loan had not been funded.
    stale = replace(
        found.loan, total_funded=Decimal("0.00"), funded_by={}, status=LoanStatus.PENDING, activated_at=None,
        total_due=None,
    )  # fmt: skip
    accepted = replace(found.participant, status="PENDING", funded_amount=Decimal(0), responded_at=None)
    funding = accept(stale, accepted, NOW)
    uow.loans.record_funding(funding, [])
    with pytest.raises(LostRace) as lost:
        uow.commit()
    assert lost.value.loan == found.loan  # ACTIVE, fully funded: as stored


def test_a_commit_larger_than_one_transaction_is_refused_before_writing(store):
    users = [a_user() for _ in range(MAX_TRANSACTION_ITEMS // 2 + 1)]
    uow = store.unit_of_work()
    for user in users:
        uow.users.add(user, "hash", None)  # two items each: the user and its email marker
    with pytest.raises(TransactionTooLarge, match="at most 100 items"):
        uow.commit()
    assert stored(store, store.db.names.users, {"user_id": users[0].user_id}) is None


def test_an_empty_unit_of_work_commits_nothing(store):
    calls = []

    def record(**kwargs):
        calls.append(kwargs)

    store.db.client.meta.events.register("before-call.dynamodb", record)
    try:
        store.unit_of_work().commit()
    finally:
        store.db.client.meta.events.unregister("before-call.dynamodb", record)
    assert calls == []


def test_the_suites_write_counter_sees_writes_and_only_writes(store, register, api):
    """`write_count` is how the suites check that a refused request wrote nothing: it must
    move on a write and stay put on a refusal that reached DynamoDB."""
    from conftest import write_count

    before = write_count(store)
    borrower, lender = register("borrower"), register("lender")
    assert write_count(store) > before
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    assert lender.accept(loan_id).status_code == 200
    before = write_count(store)
    uow = store.unit_of_work()
    uow.users.add(a_user(lender.email), "hash", None)  # the email is taken: refused by DynamoDB
    with pytest.raises(UserExists):
        uow.commit()
    assert lender.accept(loan_id).status_code == 409
    assert api.get("/health").status_code == 200
    assert write_count(store) == before


def test_a_change_and_its_event_commit_together_or_not_at_all(store, register):
    """An acceptance whose event cannot be written (its id is taken) writes nothing: no funding
    without its event. And an event is never written without its change: the event's write
    is the same transaction's."""
    borrower, lender = register("borrower"), register("lender")
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    found = store.unit_of_work().membership(loan_id, lender.user_id)
    funding = accept(found.loan, found.participant, NOW)
    [event, *_] = events.accepted(found.loan, funding)
    # The event is already there (whole, as the notifier will read it).
    store.db.client.put_item(TableName=store.db.names.events, Item=event_item(event))
    before = stored(store, store.db.names.loans, {"loan_id": loan_id})

    uow = store.unit_of_work()
    uow.participants.record_acceptance(funding.participant)
    uow.loans.record_funding(funding, [event])
    with pytest.raises(LostRace):  # decided again on a fresh read, with a fresh event
        uow.commit()

    assert stored(store, store.db.names.loans, {"loan_id": loan_id}) == before
    participant = store.unit_of_work().membership(loan_id, lender.user_id).participant
    assert participant.status == "PENDING" and participant.funded_amount == 0
