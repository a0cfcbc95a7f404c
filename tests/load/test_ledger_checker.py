"""The repayment invariants (`loadtests/ledger.py`) fail loudly: a sound repaid loan, its
schedule, repayments and history pass, and each rule, broken alone, is reported under its own
name; the borrowers' repayment amounts are what each kind asks for."""

import copy
import random
from decimal import Decimal

import pytest

from loadtests.invariants import LEDGER_RULES, RULES, check_history, check_loan, check_loans
from loadtests.ledger import check_ledger
from loadtests.scenario import KINDS, repayment_amounts

D = Decimal
FUNDED = {"l-1": D("400.00"), "l-2": D("250.00"), "l-3": D("350.00")}  # 40 %, 25 %, 35 % of 1000


def _loan(status: str = "COMPLETED", repaid: str = "1030.00") -> dict:
    """1000 funded by three lenders, 1030 due (a single payment with 30 interest)."""
    outstanding = D("1030.00") - D(repaid)
    return {
        "loan_id": "loan-1", "amount": D("1000.00"), "status": status, "total_funded": D("1000.00"),
        "remaining_amount": D("0.00"), "funding_deadline": "2030-01-31T12:00:00.000000Z",
        "closed_at": "2030-01-10T09:00:00.000000Z" if status == "COMPLETED" else None,
        "repayment_type": "SINGLE_PAYMENT", "total_due": D("1030.00"), "repaid": D(repaid),
        "outstanding": outstanding,
        "participants": [
            {"lender_id": lender, "email": f"{lender}@example.com", "contribution_amount": funded,
             "funded_amount": funded, "status": "ACCEPTED"}
            for lender, funded in FUNDED.items()
        ],
    }  # fmt: skip


def _schedule(paid: str = "1030.00") -> dict:
    row = {"number": 1, "due_date": "2031-01-05", "principal": D("1000.00"), "interest": D("30.00"),
           "amount": D("1030.00"), "paid": D(paid), "status": "PAID"}  # fmt: skip
    totals = {"principal": D("1000.00"), "interest": D("30.00"), "amount": D("1030.00"), "paid": D(paid),
              "outstanding": D("1030.00") - D(paid)}  # fmt: skip
    return {"loan_id": "loan-1", "repayment_type": "SINGLE_PAYMENT", "projected": False,
            "instalments": [row], "totals": totals}  # fmt: skip


def _repayment(number: int, amount: str, interest: str, shares: tuple[str, str, str]) -> dict:
    return {"repayment_id": f"r-{number}", "number": number, "amount": D(amount), "paid_at": "2030-01-10T09:00:00Z",
            "applied": {"interest": D(interest), "principal": D(amount) - D(interest)},
            "shares": [{"lender_id": f"l-{i}", "amount": D(s)} for i, s in enumerate(shares, 1)]}  # fmt: skip


# The first one's exact shares are 200.004, 125.0025 and 175.0035: the cent left over goes to
# the largest remainder; the second one's bring each lender to their exact share of 1030.
REPAYMENTS = [
    _repayment(1, "500.01", "30.00", ("200.01", "125.00", "175.00")),
    _repayment(2, "529.99", "0.00", ("211.99", "132.50", "185.50")),
]


def _event(kind: str, before: str | None, after: str, **data) -> dict:
    return {"event_id": f"e-{kind}", "type": kind, "at": "2030-01-02T00:00:00Z", "actor_id": "b-1",
            "from_status": before, "to_status": after, "data": data}  # fmt: skip


def _history(repayments: list[dict], completed: bool = True) -> list[dict]:
    events = [
        _event("LOAN_CREATED", None, "PENDING", lenders=[]),
        *[_event("INVITATION_ACCEPTED", "PENDING", "PENDING", lender_id=k, funded_amount=v) for k, v in FUNDED.items()],
        _event("LOAN_ACTIVATED", "PENDING", "ACTIVE", total_funded=D(1000)),
        *[_event("REPAYMENT_RECORDED", "ACTIVE", "ACTIVE", repayment_id=r["repayment_id"]) for r in repayments],
        *([_event("LOAN_COMPLETED", "ACTIVE", "COMPLETED", repaid=D("1030.00"))] if completed else []),
    ]
    return [{**event, "sequence": n} for n, event in enumerate(events, 1)]


def sound(case: str = "completed") -> tuple[dict, dict, list[dict], list[dict]]:
    """(loan, schedule, repayments, history): repaid in full, or ("active") the first repayment only."""
    if case == "active":
        repayments = copy.deepcopy(REPAYMENTS[:1])
        return _loan("ACTIVE", "500.01"), _schedule("500.01"), repayments, _history(repayments, completed=False)
    repayments = copy.deepcopy(REPAYMENTS)
    return _loan(), _schedule(), repayments, _history(repayments)


def _unfunded(parts) -> None:
    """A PENDING loan (nothing read for it but the loan and its history) owing a cent."""
    loan, _, repayments, history = parts
    loan.update(status="PENDING", total_funded=D(0), remaining_amount=D(1000), total_due=None, repaid=D(0))
    loan.update(outstanding=D("0.01"))
    repayments.clear()
    history[:] = history[:1]


# rule -> (sound case, a change to its (loan, schedule, repayments, history) that breaks that rule alone)
CORRUPTIONS = {
    # A repayment whose page was lost, or counted twice on the loan.
    "REPAID_NOT_SUM": ("active", lambda p: p[1]["totals"].update(paid=D("500.00"))),
    # A cent lost: the lender stays within a cent of their exact share, the sum does not.
    "SHARES_NOT_AMOUNT": ("active", lambda p: p[2][0]["shares"][0].update(amount=D("200.00"))),
    # Two lenders' cents swapped over the loan's life: each repayment still adds up.
    "SHARE_NOT_PRO_RATA": (
        "completed",
        lambda p: (p[2][1]["shares"][0].update(amount=D("213.00")), p[2][1]["shares"][1].update(amount=D("131.49"))),
    ),
    "APPLIED_NOT_AMOUNT": ("completed", lambda p: p[2][0]["applied"].update(principal=D("470.00"))),
    "REPAYMENT_NUMBERS": ("completed", lambda p: p[2][1].update(number=3)),
    "OUTSTANDING_WRONG": ("active", lambda p: p[0].update(outstanding=D("500.00"))),
    # Repaid in full, yet still ACTIVE (with no LOAN_COMPLETED, as such a loan would have).
    "COMPLETED_WRONG": ("completed", lambda p: (p[0].update(status="ACTIVE", closed_at=None), p[3].pop())),
    "REPAID_UNFUNDED": ("active", _unfunded),
    # A retried repayment recorded once on the page but twice in the history.
    "REPAYMENT_EVENTS": ("active", lambda p: p[3].append({**p[3][-1], "sequence": len(p[3]) + 1})),
    "COMPLETED_EVENTS": ("completed", lambda p: p[3].append({**p[3][-1], "sequence": len(p[3]) + 1})),
}


def test_every_repayment_rule_has_a_corruption():
    assert set(CORRUPTIONS) == LEDGER_RULES <= set(RULES)


@pytest.mark.parametrize("case", ["active", "completed"])
def test_a_sound_repaid_loan_passes_every_check(case):
    loan, schedule, repayments, history = sound(case)
    assert check_ledger(loan, schedule, repayments, history) == []
    assert check_loan(loan) == []  # COMPLETED is a funded loan, its closed_at set
    assert check_history("loan-1", history, loan) == []  # the replay gives the status and total
    ledgers = {"loan-1": {"schedule": schedule, "repayments": repayments}}
    report = check_loans([loan], histories={"loan-1": history}, ledgers=ledgers)
    assert report.ok and report.repayments_checked == len(repayments), report.violations
    assert report.total_repaid == loan["repaid"]


@pytest.mark.parametrize("rule", sorted(CORRUPTIONS))
def test_each_broken_repayment_rule_is_reported(rule):
    case, change = CORRUPTIONS[rule]
    parts = sound(case)
    change(parts)
    violations = check_ledger(*parts)
    assert {v.rule for v in violations} == {rule}, violations
    assert all(v.loan_id == "loan-1" and RULES[rule] in str(v) for v in violations)


def test_the_run_check_reports_a_broken_ledger_and_a_malformed_one():
    loan, schedule, repayments, history = sound()
    repayments[0]["applied"]["interest"] = D("29.00")
    ledgers = {"loan-1": {"schedule": schedule, "repayments": repayments}}
    report = check_loans([loan], histories={"loan-1": history}, ledgers=ledgers)
    assert report.by_rule() == {"APPLIED_NOT_AMOUNT": 1}
    repayments[0]["amount"] = "lots"
    assert [v.rule for v in check_ledger(loan, schedule, repayments, history)] == ["MALFORMED"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_repayment_asks_what_it_should(kind):
    _, schedule, _, _ = sound("active")  # 529.99 outstanding
    rng = random.Random(7)
    for _ in range(50):
        amounts = repayment_amounts(kind, schedule, rng)
        assert amounts and all(a > 0 and a == a.quantize(D("0.01")) for a in amounts), amounts
        if kind in ("instalment", "whole"):
            assert amounts == [D("529.99")]
        elif kind == "odd":
            assert amounts[0] <= D("265.00") and amounts[0] * 100 % 2 == 1
        elif kind == "over":
            assert D("529.99") < amounts[0] < D("629.99")
        else:
            assert 2 <= len(amounts) <= 3 and max(amounts) <= D("529.99")
    assert repayment_amounts("whole", _schedule()) == []  # nothing outstanding: nothing sent
