"""Schedules and repayments through HTTP: the schedule fixed at activation, repayments split
to the cent, COMPLETED when repaid, and every refusal writing nothing."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from concurrent_requests import race

from service.domain.schedule import add_months

from conftest import Account, assert_error, write_count

D = Decimal


def active_loan(register, amount=10000, rate=12, term="6 months", shares=(3000, 7000), **fields):
    """A borrower, lenders who accepted in full, and the ACTIVE loan they funded."""
    borrower = register("borrower")
    lenders = [register(f"lender{index}") for index in range(len(shares))]
    loan = borrower.create_loan(
        [(lender.email, share) for lender, share in zip(lenders, shares, strict=True)],
        amount=amount,
        interest_rate=rate,
        term=term,
        **fields,
    )
    for lender in lenders:
        assert lender.accept(loan["loan_id"]).status_code == 200
    return borrower, lenders, loan["loan_id"]


def repay(account: Account, loan_id: str, amount, **headers):
    path = f"/loans/{loan_id}/repayments"
    return account.client.post(path, json={"amount": amount}, headers={**account.headers, **headers})


def schedule(account: Account, loan_id: str) -> dict:
    response = account.get(f"/loans/{loan_id}/schedule")
    assert response.status_code == 200, response.text
    return response.json()


def test_the_schedule_is_fixed_at_activation(register):
    borrower, lenders, loan_id = active_loan(register)
    loan = borrower.get(f"/loans/{loan_id}").json()
    fixed = schedule(borrower, loan_id)
    assert fixed["projected"] is False and fixed["repayment_type"] == "EQUAL_INSTALMENTS"
    assert [i["amount"] for i in fixed["instalments"]] == [1725.48] * 5 + [1725.51]
    activated = date.fromisoformat(loan["activated_at"][:10])
    assert [i["due_date"] for i in fixed["instalments"]] == [add_months(activated, n).isoformat() for n in range(1, 7)]
    assert {i["status"] for i in fixed["instalments"]} == {"DUE"}
    assert fixed["totals"] == {
        "principal": 10000,
        "interest": 352.91,
        "amount": 10352.91,
        "paid": 0,
        "outstanding": 10352.91,
    }
    assert (loan["total_due"], loan["repaid"], loan["outstanding"]) == (10352.91, 0, 10352.91)
    assert schedule(lenders[0], loan_id) == fixed


def test_a_pending_loan_shows_its_projected_schedule(register):
    borrower, lender = register("borrower"), register("lender")
    loan = borrower.create_loan([(lender.email, 1000)], amount=1000, repayment_type="SINGLE_PAYMENT")
    projected = schedule(borrower, loan["loan_id"])
    assert projected["projected"] is True and projected["repayment_type"] == "SINGLE_PAYMENT"
    assert [(i["principal"], i["interest"]) for i in projected["instalments"]] == [(1000, 65)]
    assert (loan["repayment_type"], loan["total_due"], loan["outstanding"]) == ("SINGLE_PAYMENT", None, 0)
    # An invitee who has not accepted may not see it, nor may a stranger.
    assert_error(lender.get(f"/loans/{loan['loan_id']}/schedule"), 403, "ACCESS_DENIED")
    assert_error(register("stranger").get(f"/loans/{loan['loan_id']}/schedule"), 403, "ACCESS_DENIED")
    assert borrower.cancel(loan["loan_id"]).status_code == 200
    refused = assert_error(borrower.get(f"/loans/{loan['loan_id']}/schedule"), 409, "INVALID_STATE")
    assert refused["details"] == {"status": "CANCELLED", "action": "schedule"}


def test_a_repayment_pays_interest_first_and_is_shared_pro_rata(register):
    borrower, (small, large), loan_id = active_loan(register)
    response = repay(borrower, loan_id, 1725.48)
    assert response.status_code == 201, response.text
    repayment = response.json()
    assert repayment["number"] == 1 and repayment["amount"] == 1725.48
    assert repayment["applied"] == {"interest": 100.0, "principal": 1625.48}
    shares = {share["lender_id"]: share["amount"] for share in repayment["shares"]}
    assert shares == {small.user_id: 517.64, large.user_id: 1207.84}  # 30 % is 517.644
    after = schedule(borrower, loan_id)
    assert after["instalments"][0]["status"] == "PAID" and after["totals"]["paid"] == 1725.48
    # The borrower sees every share; a lender only their own.
    mine = small.get(f"/loans/{loan_id}/repayments").json()["items"]
    assert [item["shares"] for item in mine] == [[{"lender_id": small.user_id, "amount": 517.64}]]
    assert borrower.get(f"/loans/{loan_id}/repayments").json()["items"] == [repayment]


def test_refusals_write_nothing(register, store):
    borrower, (lender, _), loan_id = active_loan(register)
    before = write_count(store)
    refused = assert_error(repay(borrower, loan_id, 10352.92), 400, "INVALID_AMOUNT")
    assert refused["details"]["outstanding"] == 10352.91
    assert_error(repay(lender, loan_id, 10), 403, "ACCESS_DENIED")
    assert_error(repay(borrower, loan_id, 0.001), 400, "INVALID_INPUT")
    assert_error(repay(borrower, str(uuid.uuid4()), 10), 404, "LOAN_NOT_FOUND")
    assert write_count(store) == before
    assert borrower.get(f"/loans/{loan_id}").json()["repaid"] == 0
    pending = borrower.create_loan([(lender.email, 1000)], amount=1000)
    before = write_count(store)
    refused = assert_error(repay(borrower, pending["loan_id"], 10), 409, "INVALID_STATE")
    assert refused["details"] == {"status": "PENDING", "action": "repay"}
    assert write_count(store) == before


def test_the_last_repayment_completes_the_loan(register, notifier):
    borrower, lenders, loan_id = active_loan(register, amount=100, rate=0, term="1 month", shares=(33.33, 66.67))
    assert repay(borrower, loan_id, 40).status_code == 201
    assert repay(borrower, loan_id, 60).status_code == 201
    loan = borrower.get(f"/loans/{loan_id}").json()
    assert (loan["status"], loan["outstanding"], loan["repaid"]) == ("COMPLETED", 0, 100)
    assert loan["closed_at"] is not None
    refused = assert_error(repay(borrower, loan_id, 1), 409, "INVALID_STATE")
    assert refused["details"] == {"status": "COMPLETED", "action": "repay"}
    history = [event["type"] for event in borrower.events(loan_id)]
    assert history[-3:] == ["REPAYMENT_RECORDED", "REPAYMENT_RECORDED", "LOAN_COMPLETED"]
    assert schedule(borrower, loan_id)["instalments"][0]["status"] == "PAID"
    notifier.pump()
    for lender in lenders:
        types = [n["type"] for n in lender.get("/user/notifications", params={"limit": 100}).json()["items"]]
        assert types.count("REPAYMENT_RECORDED") == 2 and types.count("LOAN_COMPLETED") == 1
    received = sum(
        share["amount"]
        for item in borrower.get(f"/loans/{loan_id}/repayments").json()["items"]
        for share in item["shares"]
    )
    assert round(received, 2) == 100


def test_dashboards_agree_with_the_schedule(register):
    borrower, (small, _), loan_id = active_loan(register)
    assert repay(borrower, loan_id, 2000).status_code == 201
    fixed = schedule(borrower, loan_id)
    mine = borrower.get("/user/dashboard").json()["borrower"]
    assert mine["outstanding"] == fixed["totals"]["outstanding"] == 8352.91
    assert mine["expected_interest"] == fixed["totals"]["interest"]
    second = fixed["instalments"][1]
    assert mine["next_due"] == {"date": second["due_date"], "amount": round(second["amount"] - second["paid"], 2)}
    assert mine["overdue_count"] == 0
    lent = small.get("/user/dashboard").json()["lender"]
    assert lent["received"] == 600  # 30 % of 2000
    assert lent["outstanding_to_me"] == round(3105.87 - 600, 2)  # 30 % of 10352.91 is 3105.873
    assert lent["expected_interest"] == 105.87
    assert lent["next_expected"]["date"] == second["due_date"]


def test_a_retried_repayment_is_recorded_once(register):
    borrower, _, loan_id = active_loan(register)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first, again = repay(borrower, loan_id, 100, **key), repay(borrower, loan_id, 100, **key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert borrower.get(f"/loans/{loan_id}").json()["repaid"] == 100
    assert_error(repay(borrower, loan_id, 200, **key), 422, "IDEMPOTENCY_KEY_REUSED")


@pytest.mark.parametrize("field", [{"repayment_type": "BALLOON"}, {"repayment_type": 1}])
def test_an_unknown_repayment_type_is_refused(register, field):
    borrower, lender = register("borrower"), register("lender")
    body = {
        "amount": 100,
        "interest_rate": 5,
        "term": "2 months",
        "purpose": "p",
        "lenders": [{"email": lender.email, "contribution_amount": 100}],
        **field,
    }
    assert_error(borrower.post("/loans", json=body), 400, "INVALID_INPUT")


def test_twenty_concurrent_repayments_apply_once_each_and_complete_once(base_url, register):
    """A loan owing 1600.00 and 20 repayments of 100.00 at once: 16 are recorded, in one
    order, and the one that leaves nothing owed completes the loan; the others are refused."""
    borrower, lenders, loan_id = active_loan(register, amount=1600, rate=0, term="16 months", shares=(533.33, 1066.67))
    path = f"/loans/{loan_id}/repayments"
    responses = race(base_url, [("POST", path, borrower.headers, {"amount": 100})] * 20)
    recorded = [r.json() for r in responses if r.status_code == 201]
    refused = [r.json()["error"] for r in responses if r.status_code != 201]
    assert len(recorded) == 16 and len(refused) == 4, [r.text for r in responses]
    assert set(refused) <= {"INVALID_STATE", "INVALID_AMOUNT"}
    assert sorted(r["number"] for r in recorded) == list(range(1, 17))
    assert sum(D(str(share["amount"])) for r in recorded for share in r["shares"]) == D("1600.00")
    loan = borrower.get(f"/loans/{loan_id}").json()
    assert (loan["status"], loan["repaid"], loan["outstanding"]) == ("COMPLETED", 1600, 0)
    listed = borrower.get(path, params={"limit": 100}).json()["items"]
    assert sorted(listed, key=lambda r: r["number"]) == sorted(recorded, key=lambda r: r["number"])
    history = [event["type"] for event in borrower.events(loan_id)]
    assert history.count("REPAYMENT_RECORDED") == 16 and history.count("LOAN_COMPLETED") == 1
    # Each lender's total is their exact third and two thirds, to the cent.
    received = {lender.user_id: lender.get("/user/dashboard").json()["lender"]["received"] for lender in lenders}
    assert received == {lenders[0].user_id: 533.33, lenders[1].user_id: 1066.67}


def test_a_wrong_method_names_both_methods_of_the_path(api):
    """Two operations share the path: a 405 lists both (Starlette's router named the first)."""
    response = api.request("PATCH", f"/loans/{uuid.uuid4()}/repayments")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD, POST"
