"""The repayment invariants of a load run's loans, from the API's own reads: the loan
(`GET /loans/{loan_id}`), its schedule (`GET /loans/{loan_id}/schedule`), every page of its
repayments as the borrower sees them (`GET /loans/{loan_id}/repayments`, every share) and its
history. Pure functions over plain dicts, like `invariants.py`, whose `RULES` names them.

Σ repayments = the schedule's `totals.paid` = the loan's `repaid`; each repayment's shares add
up to its amount (so all shares add up to all repayments) and go to the lenders who funded it,
each lender's running total within a cent of their exact pro-rata share; `applied.interest +
applied.principal = amount`; repayments numbered 1..n; `outstanding = total_due − repaid`,
`total_due` the schedule's, `COMPLETED` ⇔ nothing outstanding; one REPAYMENT_RECORDED per
repayment, one LOAN_COMPLETED exactly when COMPLETED. A loan that never turned ACTIVE has
repaid nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal

from loadtests.invariants import Violation, money

REPAYING = {"ACTIVE", "COMPLETED"}  # the loans that owe a schedule and can have repayments
CENT = Decimal("0.01")


def check_repayment(loan_id: str, repayment: Mapping) -> list[Violation]:
    """One repayment's own rules (also checked on the answer to each one the run records)."""
    found: list[Violation] = []
    number = repayment.get("number", "?")
    try:
        amount = money(repayment["amount"])
        interest, principal = money(repayment["applied"]["interest"]), money(repayment["applied"]["principal"])
        shares = [money(share["amount"]) for share in repayment["shares"]]
    except (KeyError, TypeError, ValueError) as exc:
        return [Violation(loan_id, "MALFORMED", f"repayment {number}: {type(exc).__name__}: {exc}")]
    if interest + principal != amount:
        found.append(
            Violation(loan_id, "APPLIED_NOT_AMOUNT", f"repayment {number}: {interest} + {principal} != {amount}")
        )
    if sum(shares, Decimal(0)) != amount:
        found.append(
            Violation(loan_id, "SHARES_NOT_AMOUNT", f"repayment {number}: shares add up to {sum(shares)}, not {amount}")
        )
    return found


def check_ledger(
    loan: Mapping, schedule: Mapping | None, repayments: list[Mapping], events: list[Mapping] | None
) -> list[Violation]:
    """Every broken repayment rule of one loan; `schedule` and `repayments` are read only for
    ACTIVE and COMPLETED loans (others have neither), `events` is its whole history if read."""
    loan_id = str(loan.get("loan_id", "?"))
    found: list[Violation] = []

    def broken(rule: str, detail: str) -> None:
        found.append(Violation(loan_id, rule, detail))

    try:
        status = loan["status"]
        repaid, outstanding = money(loan["repaid"]), money(loan["outstanding"])
        total_due = None if loan["total_due"] is None else money(loan["total_due"])
        funded = {p["lender_id"]: money(p["funded_amount"]) for p in loan["participants"] if p["status"] == "ACCEPTED"}
        total_funded = money(loan["total_funded"])
        paid = None if schedule is None else money(schedule["totals"]["paid"])
        scheduled = None if schedule is None else money(schedule["totals"]["amount"])
        amounts = [money(r["amount"]) for r in repayments]
        numbers = [r["number"] for r in repayments]
        by_lender: Counter = Counter()
        for repayment in repayments:
            for share in repayment["shares"]:
                by_lender[share["lender_id"]] += money(share["amount"])
    except (KeyError, TypeError, ValueError) as exc:
        broken("MALFORMED", f"repayments: {type(exc).__name__}: {exc}")
        return found

    if status not in REPAYING:
        if repaid != 0 or outstanding != 0 or repayments:
            broken("REPAID_UNFUNDED", f"{status} with repaid {repaid}, outstanding {outstanding}, {len(repayments)}")
        return found + _check_events(loan_id, status, repayments, events)

    for repayment in repayments:
        found += check_repayment(loan_id, repayment)
    if sum(amounts, Decimal(0)) != repaid or paid != repaid:
        broken("REPAID_NOT_SUM", f"repayments add up to {sum(amounts)}, the schedule says {paid}, the loan {repaid}")
    if sum(by_lender.values(), Decimal(0)) != sum(amounts, Decimal(0)):
        broken("SHARES_NOT_AMOUNT", f"all shares add up to {sum(by_lender.values())}, repayments to {sum(amounts)}")
    strangers = sorted(set(by_lender) - set(funded))
    if strangers:
        broken("SHARE_NOT_PRO_RATA", f"shares to lenders who did not fund the loan: {strangers}")
    for lender, share in sorted(funded.items()):
        exact = repaid * share / total_funded if total_funded else Decimal(0)
        if abs(by_lender.get(lender, Decimal(0)) - exact) >= CENT:
            broken("SHARE_NOT_PRO_RATA", f"lender {lender} has {by_lender.get(lender, 0)}, pro rata {exact:.4f}")
    if numbers != list(range(1, len(repayments) + 1)):
        broken("REPAYMENT_NUMBERS", f"numbers {numbers[:12]} for {len(repayments)} repayments")
    if total_due is None or total_due != scheduled or outstanding != total_due - repaid:
        broken("OUTSTANDING_WRONG", f"total_due {total_due} (schedule {scheduled}), repaid {repaid}, {outstanding} out")
    if (status == "COMPLETED") != (outstanding == 0) or (status == "COMPLETED" and total_due != repaid):
        broken("COMPLETED_WRONG", f"{status} with total_due {total_due}, repaid {repaid}, outstanding {outstanding}")
    return found + _check_events(loan_id, status, repayments, events)


def _check_events(
    loan_id: str, status: str, repayments: list[Mapping], events: list[Mapping] | None
) -> list[Violation]:
    if events is None:
        return []
    found: list[Violation] = []
    try:
        recorded = Counter(str(e["data"]["repayment_id"]) for e in events if e["type"] == "REPAYMENT_RECORDED")
        completions = sum(e["type"] == "LOAN_COMPLETED" for e in events)
        ids = Counter(str(r["repayment_id"]) for r in repayments)
    except (KeyError, TypeError) as exc:
        return [Violation(loan_id, "MALFORMED", f"repayment events: {type(exc).__name__}: {exc}")]
    if recorded != ids:
        missing, extra = sorted(ids - recorded), sorted(recorded - ids)
        detail = f"{sum(recorded.values())} events for {len(repayments)} repayments"
        found.append(Violation(loan_id, "REPAYMENT_EVENTS", f"{detail}; without one {missing}, unmatched {extra}"))
    if completions != (status == "COMPLETED"):
        found.append(Violation(loan_id, "COMPLETED_EVENTS", f"{completions} LOAN_COMPLETED events, the loan {status}"))
    return found
