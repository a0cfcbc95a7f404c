"""The loan's lifecycle through HTTP: every action in every state, table-driven.

Each row sets a loan up in one state, through the API, and then has someone act on it. Legal
actions change the loan as the transition table says and record their event; every other one
answers 409 with its code and changes nothing: no write at all, the same loan, the same history.
Expired loans are acted on through `later_api`, the same system with its clock past their
deadline: once before the expiry job has written EXPIRED, once after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from service.clock import SystemClock
from service.domain.deadlines import at

from conftest import FUNDING_WINDOW, Account, assert_error, soon, unique_email, write_count

AMOUNT = 1000


@dataclass
class Setup:
    borrower: Account
    a: Account  # accepts 400 in "partly funded", all of it in "active"
    b: Account  # still pending in every state but "b declined"
    loan_id: str


def _loan(register, deadline: str | None = None) -> Setup:
    borrower, a, b = register("borrower"), register("lender-a"), register("lender-b")
    fields = {"funding_deadline": deadline} if deadline else {}
    loan = borrower.create_loan([(a.email, 400), (b.email, 600)], amount=AMOUNT, **fields)
    return Setup(borrower, a, b, loan["loan_id"])


def pending(register, **_) -> Setup:
    return _loan(register)


def partly_funded(register, **_) -> Setup:
    setup = _loan(register)
    assert setup.a.accept(setup.loan_id).status_code == 200
    return setup


def active(register, **_) -> Setup:
    """a funds 400 and a third lender the rest: b is still pending on an ACTIVE loan."""
    setup = _loan(register)
    c = register("lender-c")
    assert setup.borrower.invite(setup.loan_id, [(c.email, 600)]).status_code == 201
    assert setup.a.accept(setup.loan_id).status_code == 200
    response = c.accept(setup.loan_id)
    assert response.json()["loan"]["status"] == "ACTIVE", response.text
    return setup


def cancelled(register, **_) -> Setup:
    setup = partly_funded(register)
    assert setup.borrower.cancel(setup.loan_id).status_code == 200
    return setup


def b_declined(register, **_) -> Setup:
    setup = _loan(register)
    assert setup.b.decline(setup.loan_id).status_code == 200
    return setup


def expired_as_read(register, later_api, **_) -> Setup:
    """Past its deadline, the expiry job not yet run: reads show EXPIRED at once."""
    setup = _loan(register, deadline=soon())
    assert setup.a.accept(setup.loan_id).status_code == 200
    return _later(setup, later_api)


def expired_written(register, later_api, later_services, **_) -> Setup:
    setup = expired_as_read(register, later_api)
    assert later_services.expiry.expire_due() >= 1
    [loan] = later_services.store.unit_of_work().loans.get_many({setup.loan_id})
    assert loan.status == "EXPIRED"
    return setup


def _later(setup: Setup, later_api) -> Setup:
    return Setup(*(user.later(later_api) for user in (setup.borrower, setup.a, setup.b)), setup.loan_id)


ACTIONS: dict[str, Callable[[Setup], object]] = {
    "b accepts": lambda s: s.b.accept(s.loan_id),
    "b declines": lambda s: s.b.decline(s.loan_id, "Not now"),
    "a accepts": lambda s: s.a.accept(s.loan_id),
    "a declines": lambda s: s.a.decline(s.loan_id),
    "borrower cancels": lambda s: s.borrower.cancel(s.loan_id, "Found other funding"),
    "borrower invites": lambda s: s.borrower.invite(s.loan_id, [(unique_email("extra"), 100)]),
}
SETUPS = {
    "pending": pending,
    "partly funded": partly_funded,
    "active": active,
    "cancelled": cancelled,
    "b declined": b_declined,
    "expired (as read)": expired_as_read,
    "expired (written)": expired_written,
}
OK = (200, None)
INVITED = (201, None)


def invalid(status: str, action: str) -> tuple[int, str, dict]:
    return 409, "INVALID_STATE", {"status": status, "action": action}


EXPIRED = (409, "LOAN_EXPIRED")
ACCEPTED = (409, "ALREADY_ACCEPTED")
# (state, action) -> what the API answers: a success, or 409 with its code (and details).
EXPECTED = {
    ("pending", "b accepts"): OK,
    ("pending", "b declines"): OK,
    ("pending", "a accepts"): OK,
    ("pending", "a declines"): OK,
    ("pending", "borrower cancels"): OK,
    ("pending", "borrower invites"): INVITED,
    ("partly funded", "b accepts"): OK,
    ("partly funded", "b declines"): OK,
    ("partly funded", "a accepts"): ACCEPTED,
    ("partly funded", "a declines"): ACCEPTED,
    ("partly funded", "borrower cancels"): OK,
    ("partly funded", "borrower invites"): INVITED,
    ("active", "b accepts"): (409, "LOAN_FULLY_FUNDED"),
    ("active", "b declines"): invalid("ACTIVE", "decline"),
    ("active", "a accepts"): ACCEPTED,
    ("active", "a declines"): ACCEPTED,
    ("active", "borrower cancels"): invalid("ACTIVE", "cancel"),
    ("active", "borrower invites"): invalid("ACTIVE", "invite"),
    ("cancelled", "b accepts"): invalid("CANCELLED", "accept"),
    ("cancelled", "b declines"): invalid("CANCELLED", "decline"),
    ("cancelled", "a accepts"): invalid("CANCELLED", "accept"),
    ("cancelled", "a declines"): invalid("CANCELLED", "decline"),
    ("cancelled", "borrower cancels"): invalid("CANCELLED", "cancel"),
    ("cancelled", "borrower invites"): invalid("CANCELLED", "invite"),
    ("b declined", "b accepts"): (409, "INVITATION_DECLINED"),
    ("b declined", "b declines"): (409, "INVITATION_DECLINED"),
    ("b declined", "a accepts"): OK,
    ("b declined", "a declines"): OK,
    ("b declined", "borrower cancels"): OK,
    ("b declined", "borrower invites"): INVITED,
    **{(state, action): EXPIRED for state in ("expired (as read)", "expired (written)") for action in ACTIONS},
}


def test_the_table_covers_every_state_and_action() -> None:
    assert set(EXPECTED) == {(state, action) for state in SETUPS for action in ACTIONS}


@dataclass
class Snapshot:
    loan: dict
    history: list[dict]


def snapshot(setup: Setup) -> Snapshot:
    response = setup.borrower.get(f"/loans/{setup.loan_id}")
    assert response.status_code == 200, response.text
    return Snapshot(response.json(), setup.borrower.events(setup.loan_id))


@pytest.mark.parametrize(("state", "action"), sorted(EXPECTED), ids=lambda v: v.replace(" ", "-"))
def test_every_action_in_every_state(state, action, register, store, later_api, later_services) -> None:
    setup = SETUPS[state](register, later_api=later_api, later_services=later_services)
    before, writes = snapshot(setup), write_count(store)

    response = ACTIONS[action](setup)

    expected = EXPECTED[(state, action)]
    after = snapshot(setup)
    if expected[1] is None:
        assert response.status_code == expected[0], response.text
        assert after.history[: len(before.history)] == before.history  # appended to, never changed
        assert len(after.history) > len(before.history)
        assert after.history[-1]["to_status"] == after.loan["status"]
        return
    body = assert_error(response, expected[0], expected[1])
    if len(expected) == 3:
        assert body["details"] == expected[2]
    assert write_count(store) == writes, "a refused action wrote something"
    assert after == before


def test_cancelling_releases_the_funding_closes_the_rest_and_deletes_the_bank_details(register, services) -> None:
    setup = partly_funded(register)
    response = setup.borrower.cancel(setup.loan_id, "Found other funding")
    assert response.status_code == 200, response.text
    loan = response.json()
    assert (loan["status"], loan["total_funded"], loan["remaining_amount"]) == ("CANCELLED", 0, AMOUNT)
    assert loan["closed_at"] is not None
    statuses = {p["email"]: (p["status"], p["funded_amount"]) for p in loan["participants"]}
    # The released lender's record keeps what they had funded; it no longer counts.
    assert statuses == {setup.a.email: ("RELEASED", 400), setup.b.email: ("CLOSED", 0)}
    assert setup.borrower.get(f"/loans/{setup.loan_id}").json() == loan
    records = services.store.db.table(services.settings.tables.ach_details).query(
        IndexName="loan-ach-index",
        KeyConditionExpression="loan_id = :l",
        ExpressionAttributeValues={":l": setup.loan_id},
    )
    assert records["Items"] == [], "the bank details of a cancelled loan are kept"
    [event] = [e for e in setup.borrower.events(setup.loan_id) if e["type"] == "LOAN_CANCELLED"]
    assert (event["actor_id"], event["from_status"], event["to_status"]) == (
        setup.borrower.user_id,
        "PENDING",
        "CANCELLED",
    )
    assert event["data"] == {"reason": "Found other funding", "released": 400}


def test_a_declined_invitation_leaves_the_pending_list_and_shows_to_the_borrower(register) -> None:
    setup = _loan(register)
    response = setup.b.decline(setup.loan_id, "Not this quarter")
    assert response.status_code == 200, response.text
    assert setup.loan_id not in [item["loan_id"] for item in setup.b.get("/lender/pending").json()["items"]]
    [mine] = [
        p for p in setup.borrower.get(f"/loans/{setup.loan_id}").json()["participants"] if p["email"] == setup.b.email
    ]
    assert (mine["status"], mine["decline_reason"]) == ("DECLINED", "Not this quarter")
    # After a decline, inviting someone else is how the loan gets funded.
    c = register("lender-c")
    invited = setup.borrower.invite(setup.loan_id, [(c.email, 600)])
    assert invited.status_code == 201, invited.text
    assert setup.a.accept(setup.loan_id).status_code == 200
    assert c.accept(setup.loan_id).json()["loan"]["status"] == "ACTIVE"


def test_an_expired_loan_reads_expired_at_once_everywhere(register, later_api) -> None:
    setup = expired_as_read(register, later_api)
    loan = setup.borrower.get(f"/loans/{setup.loan_id}").json()
    assert (loan["status"], loan["total_funded"], loan["closed_at"]) == ("EXPIRED", 0, loan["funding_deadline"])
    assert {p["email"]: p["status"] for p in loan["participants"]} == {
        setup.a.email: "RELEASED",
        setup.b.email: "CLOSED",
    }
    assert setup.a.get(f"/loans/{setup.loan_id}").json()["status"] == "EXPIRED"
    listed = {item["loan_id"]: item["status"] for item in setup.borrower.get("/loans/my-loans").json()["items"]}
    assert listed[setup.loan_id] == "EXPIRED"
    assert setup.loan_id not in [item["loan_id"] for item in setup.b.get("/lender/pending").json()["items"]]
    # a's acceptance was released: it no longer counts; b's invitation can no longer be accepted.
    lent = setup.a.get("/user/dashboard").json()["lender"]
    assert (lent["accepted_count"], lent["total_funded"], lent["expected_interest"]) == (0, 0, 0)
    invited = setup.b.get("/user/dashboard").json()["lender"]
    assert (invited["pending_invitations"], invited["pending_commitment"]) == (0, 0)
    borrowed = setup.borrower.get("/user/dashboard").json()["borrower"]
    assert borrowed["expired_count"] == 1 and borrowed["pending_count"] == 0


def _from_now(seconds: float) -> str:
    return at(SystemClock().now() + seconds)


@pytest.mark.parametrize(
    ("deadline", "field_error"),
    [
        ("2020-01-01T00:00:00Z", True),  # in the past
        (_from_now(FUNDING_WINDOW - 60), True),  # sooner than the window allows
        (_from_now(91 * 86400), True),  # later than 90 days
        ("2030-01-01T00:00:00", True),  # no offset
        ("tomorrow", False),  # not a date-time at all: the schema's 400
    ],
)
def test_a_funding_deadline_outside_the_window_is_refused(register, store, deadline, field_error) -> None:
    borrower, lender = register("borrower"), register("lender")
    writes = write_count(store)
    body = {
        "amount": 100,
        "interest_rate": 5,
        "term": "12 months",
        "purpose": "Deadline",
        "lenders": [{"email": lender.email, "contribution_amount": 100}],
        "funding_deadline": deadline,
    }
    error = assert_error(borrower.post("/loans", json=body), 400, "INVALID_INPUT")
    if field_error:
        assert error["details"]["field"] == "funding_deadline"
    assert write_count(store) == writes
