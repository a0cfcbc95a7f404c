"""The idempotency table through its adapter, on the clock's edges: a marker's lock and a
record's 24 hours end when they say, and an owner whose lock ran out and whose key was taken
cannot complete it, nor commit the effect it guarded."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from test_unit_of_work import a_loan, a_user, stored

from service.domain.idempotency import (
    KEEP_SECONDS,
    LOCK_SECONDS,
    IdempotencyKeyInUse,
    IdempotentRequest,
    KeyState,
    StoredResponse,
)
from service.usecases.ports import PENDING_KEY, PendingKey

NOW = 1_800_000_000.0
OK = StoredResponse(201, '{"ok": true}', {"Location": "/x"})


def a_request() -> IdempotentRequest:
    return IdempotentRequest(f"user#createLoan#{uuid.uuid4()}", "f" * 64)


def pending(request: IdempotentRequest, owner: str, now: float = NOW) -> PendingKey:
    return PendingKey(request, owner, now, lambda outcome: OK)


def test_a_marker_holds_the_key_until_its_lock_runs_out(store) -> None:
    keys, request = store.idempotency, a_request()
    assert keys.take(request, "a", NOW) is None
    held = keys.take(request, "b", NOW + LOCK_SECONDS - 1)
    assert held is not None and held.state == KeyState.IN_PROGRESS and held.fingerprint == request.fingerprint
    assert held.locked_until == NOW + LOCK_SECONDS
    assert keys.take(request, "b", NOW + LOCK_SECONDS) is None  # a dead request's key, taken over


def test_a_completed_key_answers_for_24_hours(store) -> None:
    keys, request = store.idempotency, a_request()
    assert keys.take(request, "a", NOW) is None
    keys.complete(pending(request, "a"), OK)
    done = keys.take(request, "b", NOW + KEEP_SECONDS - 1)
    assert done is not None and (done.state, done.response) == (KeyState.COMPLETED, OK)
    assert keys.take(request, "b", NOW + KEEP_SECONDS) is None


def test_an_owner_that_lost_its_key_cannot_commit_its_effect_or_complete_it(store) -> None:
    keys, request = store.idempotency, a_request()
    assert keys.take(request, "slow", NOW) is None
    assert keys.take(request, "retry", NOW + LOCK_SECONDS + 1) is None  # the slow one's lock ran out

    borrower = a_user()
    loan = a_loan(borrower)
    uow = store.unit_of_work()
    uow.loans.add(loan, 0, [])
    token = PENDING_KEY.set(pending(request, "slow"))
    try:
        with pytest.raises(IdempotencyKeyInUse):
            uow.commit("the slow one's outcome")
    finally:
        PENDING_KEY.reset(token)
    assert stored(store, store.db.names.loans, {"loan_id": loan.loan_id}) is None  # no effect

    keys.complete(pending(request, "slow"), StoredResponse(500, "", {}))
    record = store.db.table(store.db.names.idempotency).get_item(Key={"scope": request.scope})["Item"]
    assert (record["owner"], record["state"]) == ("retry", KeyState.IN_PROGRESS)
    keys.release(pending(request, "slow"))  # nor free it
    assert store.db.table(store.db.names.idempotency).get_item(Key={"scope": request.scope}).get("Item")


def test_the_effect_and_the_completion_commit_together(store) -> None:
    keys, request = store.idempotency, a_request()
    assert keys.take(request, "a", NOW) is None
    borrower = a_user()
    loan = a_loan(borrower)
    uow = store.unit_of_work()
    uow.loans.add(loan, 0, [])
    key = pending(request, "a")
    token = PENDING_KEY.set(key)
    try:
        uow.commit("outcome")
    finally:
        PENDING_KEY.reset(token)
    assert key.response == OK
    assert stored(store, store.db.names.loans, {"loan_id": loan.loan_id}) is not None
    record = store.db.table(store.db.names.idempotency).get_item(Key={"scope": request.scope})["Item"]
    assert record["state"] == KeyState.COMPLETED and record["response_status"] == Decimal(201)
    assert record["expires_at"] == Decimal(int(NOW + KEEP_SECONDS))
