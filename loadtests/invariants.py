"""The funding invariants (`0 <= total_funded <= amount`, `total_funded` = the sum of what the
accepted lenders funded, `ACTIVE` exactly when fully funded, no lender twice), checked on
loans as `GET /loans/{loan_id}` returns them to their borrower (who sees every participant).
Pure functions over plain dicts, so corrupted documents are easy to feed in.

Money is compared exactly: every amount goes through `Decimal(str(value))`, so parse JSON with
`parse_float=Decimal` to avoid float noise (floats with two decimals also compare right).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

LOAN_STATUSES = {"PENDING", "ACTIVE"}
PARTICIPANT_STATUSES = {"PENDING", "ACCEPTED"}

# rule -> what it means; every violation names one of these.
RULES = {
    "MALFORMED": "the document has the fields the contract promises, with money as numbers",
    "UNKNOWN_STATUS": "loan status is PENDING or ACTIVE; participant status PENDING or ACCEPTED",
    "NEGATIVE_TOTAL": "0 <= total_funded",
    "OVER_FUNDED": "total_funded <= amount",
    "TOTAL_NOT_SUM": "total_funded == sum of funded_amount over ACCEPTED participants",
    "ACTIVE_NOT_FULL": "status ACTIVE => total_funded == amount",
    "FULL_NOT_ACTIVE": "total_funded == amount => status ACTIVE",
    "REMAINING_WRONG": "remaining_amount == amount - total_funded",
    "DUPLICATE_LENDER": "each lender takes part (and accepts) at most once per loan",
    "PENDING_FUNDED": "a PENDING participant has funded_amount 0",
    "ACCEPTED_AMOUNT": "an ACCEPTED participant funded more than 0 and at most its contribution",
    "AMOUNT_CHANGED": "the amount is the one the loan was created with",
    "PARTICIPANTS_CHANGED": "the participants are exactly the lenders the loan was created with",
}


@dataclass(frozen=True)
class Violation:
    loan_id: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.rule} ({RULES[self.rule]}): {self.detail}"


def money(value: object) -> Decimal:
    """An exact amount, or ValueError for anything that is not a JSON number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueError(f"not a number: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a number: {value!r}")
    return amount


def accepted_sum(loan: Mapping) -> Decimal:
    return sum(
        (money(p["funded_amount"]) for p in loan.get("participants", []) if p.get("status") == "ACCEPTED"), Decimal(0)
    )


def check_loan(loan: Mapping, expected: Mapping | None = None, *, settled: bool = True) -> list[Violation]:
    """Every broken invariant of one loan document (empty when it is sound).

    `expected` is what the run recorded when it created the loan: `amount` and the invited
    `lenders` (emails). `settled=False` is for reads taken while acceptances still run: the
    borrower's view is two consistent reads (the loan, then its participants), so the
    participants may be newer than the loan and only `sum >= total_funded` must hold.
    """
    loan_id = str(loan.get("loan_id", "?"))

    def broken(rule: str, detail: str) -> None:
        found.append(Violation(loan_id, rule, detail))

    found: list[Violation] = []
    try:
        amount = money(loan["amount"])
        total = money(loan["total_funded"])
        remaining = money(loan["remaining_amount"])
        status = loan["status"]
        participants = list(loan["participants"])
        funded = {i: money(p["funded_amount"]) for i, p in enumerate(participants)}
        contribution = {i: money(p["contribution_amount"]) for i, p in enumerate(participants)}
        statuses = {i: p["status"] for i, p in enumerate(participants)}
    except (KeyError, TypeError, ValueError) as exc:
        broken("MALFORMED", f"{type(exc).__name__}: {exc}")
        return found

    if status not in LOAN_STATUSES:
        broken("UNKNOWN_STATUS", f"loan status {status!r}")
    for i, participant_status in statuses.items():
        if participant_status not in PARTICIPANT_STATUSES:
            broken("UNKNOWN_STATUS", f"participant {_who(participants[i])} status {participant_status!r}")

    if total < 0:
        broken("NEGATIVE_TOTAL", f"total_funded {total}")
    if total > amount:
        broken("OVER_FUNDED", f"total_funded {total} > amount {amount}")
    accepted = sum((funded[i] for i, s in statuses.items() if s == "ACCEPTED"), Decimal(0))
    if accepted != total and (settled or accepted < total):
        broken("TOTAL_NOT_SUM", f"total_funded {total} != {accepted} funded by ACCEPTED participants")
    if status == "ACTIVE" and total != amount:
        broken("ACTIVE_NOT_FULL", f"ACTIVE with total_funded {total} of {amount}")
    if total == amount and status != "ACTIVE":
        broken("FULL_NOT_ACTIVE", f"{status} with total_funded {total} == amount")
    if remaining != amount - total:
        broken("REMAINING_WRONG", f"remaining_amount {remaining} != {amount} - {total}")

    lender_ids = Counter(p.get("lender_id") for p in participants if p.get("lender_id") is not None)
    emails = Counter(str(p.get("email", "")).lower() for p in participants)
    for lender_id, times in sorted(lender_ids.items()):
        if times > 1:
            broken("DUPLICATE_LENDER", f"lender_id {lender_id} appears {times} times")
    for email, times in sorted(emails.items()):
        if times > 1:
            broken("DUPLICATE_LENDER", f"email {email} appears {times} times")

    for i, participant_status in statuses.items():
        who = _who(participants[i])
        if participant_status == "PENDING" and funded[i] != 0:
            broken("PENDING_FUNDED", f"PENDING participant {who} has funded_amount {funded[i]}")
        if participant_status == "ACCEPTED" and not 0 < funded[i] <= contribution[i]:
            broken(
                "ACCEPTED_AMOUNT", f"ACCEPTED participant {who} funded {funded[i]} of a {contribution[i]} contribution"
            )

    if expected:
        if "amount" in expected and money(expected["amount"]) != amount:
            broken("AMOUNT_CHANGED", f"amount {amount}, created with {expected['amount']}")
        if "lenders" in expected:
            invited = {str(e).lower() for e in expected["lenders"]}
            if invited != set(emails):
                missing, extra = sorted(invited - set(emails)), sorted(set(emails) - invited)
                broken("PARTICIPANTS_CHANGED", f"missing {missing}, unexpected {extra}")
    return found


def _who(participant: Mapping) -> str:
    return str(participant.get("lender_id") or participant.get("email") or "?")


@dataclass
class Report:
    """What checking a run's loans found."""

    loans_checked: int = 0
    loans_active: int = 0
    accepted_participants: int = 0
    total_funded: Decimal = Decimal(0)
    unreadable: list[str] = field(default_factory=list)  # loan ids the API would not return
    settled_on_reread: list[str] = field(default_factory=list)  # torn reads, sound when read again
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.unreadable

    def by_rule(self) -> dict[str, int]:
        return dict(Counter(v.rule for v in self.violations))

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "loans_checked": self.loans_checked,
            "loans_active": self.loans_active,
            "accepted_participants": self.accepted_participants,
            "total_funded": str(self.total_funded),
            "unreadable": self.unreadable,
            "settled_on_reread": self.settled_on_reread,
            "violations_by_rule": self.by_rule(),
            "violations": [str(v) for v in self.violations],
        }


def check_loans(loans: Iterable[Mapping], expected: Mapping[str, Mapping] | None = None) -> Report:
    """Check settled loans; `expected` maps loan ids to what the run created."""
    report = Report()
    for loan in loans:
        report.loans_checked += 1
        found = check_loan(loan, (expected or {}).get(str(loan.get("loan_id"))))
        report.violations += found
        if not any(v.rule == "MALFORMED" for v in found):
            report.loans_active += loan["status"] == "ACTIVE"
            report.accepted_participants += sum(p["status"] == "ACCEPTED" for p in loan["participants"])
            report.total_funded += money(loan["total_funded"])
    return report
