"""The invariants of a load run's loans, checked on loans as `GET /loans/{loan_id}` returns them
to their borrower (who sees every participant) and on their histories as
`GET /loans/{loan_id}/events` returns them (every page). Pure functions over plain dicts, so
corrupted documents are easy to feed in.

The rules are the domain's (`service/domain/loans.py`, `closing.py`, `events.py`), restated
here so that a bug there cannot hide itself: `0 <= total_funded <= amount`, `total_funded` =
what the ACCEPTED participants funded, ACTIVE exactly when fully funded; a CANCELLED or
EXPIRED loan counts nothing and has no open participation (pending ones were CLOSED, accepted
ones RELEASED, keeping their `funded_amount` as history); and replaying the history from
LOAN_CREATED gives the loan's status and `total_funded`.

Money is compared exactly: every amount goes through `Decimal(str(value))`, so parse JSON with
`parse_float=Decimal` to avoid float noise (floats with two decimals also compare right).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

LOAN_STATUSES = {"PENDING", "ACTIVE", "CANCELLED", "EXPIRED", "COMPLETED"}
FUNDED_LOAN = {"ACTIVE", "COMPLETED"}
CLOSED_LOAN = {"CANCELLED", "EXPIRED"}
PARTICIPANT_STATUSES = {"PENDING", "ACCEPTED", "DECLINED", "CLOSED", "RELEASED"}
COMMITTED = {"ACCEPTED", "RELEASED"}  # funded something (released ones keep it as history)
OPEN_PARTICIPANT = {"PENDING", "ACCEPTED"}
CLOSED_PARTICIPANT = {"CLOSED", "RELEASED"}
EVENT_TYPES = {
    "LOAN_CREATED",
    "LENDERS_INVITED",
    "INVITATION_ACCEPTED",
    "INVITATION_DECLINED",
    "LOAN_ACTIVATED",
    "LOAN_CANCELLED",
    "LOAN_EXPIRED",
    "REPAYMENT_RECORDED",
    "LOAN_COMPLETED",
}

# rule -> what it means; every violation names one of these.
RULES = {
    "MALFORMED": "the document has the fields the contract promises, with money as numbers",
    "UNKNOWN_STATUS": (
        "loan status is PENDING, ACTIVE, CANCELLED, EXPIRED or COMPLETED; "
        "participant status PENDING, ACCEPTED, DECLINED, CLOSED or RELEASED"
    ),
    "NEGATIVE_TOTAL": "0 <= total_funded",
    "OVER_FUNDED": "total_funded <= amount",
    "TOTAL_NOT_SUM": "total_funded == sum of funded_amount over ACCEPTED participants",
    "ACTIVE_NOT_FULL": "status ACTIVE or COMPLETED => total_funded == amount",
    "FULL_NOT_ACTIVE": "total_funded == amount => status ACTIVE or COMPLETED",
    "REMAINING_WRONG": "remaining_amount == amount - total_funded",
    "DUPLICATE_LENDER": "each lender takes part (and accepts) at most once per loan",
    "UNACCEPTED_FUNDED": "a participant that never accepted (PENDING, DECLINED, CLOSED) has funded_amount 0",
    "ACCEPTED_AMOUNT": "an ACCEPTED or RELEASED participant funded more than 0 and at most its contribution",
    "CLOSED_LOAN_FUNDED": "a CANCELLED or EXPIRED loan has total_funded 0 (its commitments were released)",
    "CLOSED_LOAN_OPEN_PARTICIPANT": "a CANCELLED or EXPIRED loan has no PENDING or ACCEPTED participant",
    "CLOSED_PARTICIPANT_OPEN_LOAN": "CLOSED and RELEASED participants belong to CANCELLED or EXPIRED loans only",
    "CLOSED_AT_WRONG": (
        "closed_at is set on CANCELLED, EXPIRED and COMPLETED loans only: "
        "an expired loan's is its funding_deadline, a cancelled one's before it"
    ),
    "AMOUNT_CHANGED": "the amount is the one the loan was created with",
    "PARTICIPANTS_CHANGED": "the participants are exactly the lenders the run invited (at creation or later)",
    "SEQUENCE_GAP": "the history's sequences are 1, 2, ..., n, in order",
    "HISTORY_START": "the first event, and only it, is LOAN_CREATED, from no status to PENDING",
    "STATUS_CHAIN": "each event's from_status is the previous event's to_status",
    "REPLAY_STATUS": "replaying the history gives the loan's status",
    "REPLAY_TOTAL": "replaying the history gives the loan's total_funded",
    "ACCEPTED_TWICE": "each lender's acceptance is in the history once (a retried accept funds once)",
    # The repayments' rules (`ledger.py`), from the loan, its schedule and its repayments.
    "REPAID_NOT_SUM": "sum of the repayments (every page) == the schedule's totals.paid == the loan's repaid",
    "SHARES_NOT_AMOUNT": "each repayment's shares add up to its amount, and all shares to all repayments",
    "SHARE_NOT_PRO_RATA": "shares go to the lenders who funded the loan, each one's total within a cent of pro rata",
    "APPLIED_NOT_AMOUNT": "a repayment's applied.interest + applied.principal == its amount",
    "REPAYMENT_NUMBERS": "a loan's repayments are numbered 1, 2, ..., n, in order",
    "OUTSTANDING_WRONG": "total_due is the schedule's amount, and outstanding == total_due - repaid",
    "COMPLETED_WRONG": "COMPLETED <=> outstanding == 0 (and then total_due == repaid)",
    "REPAID_UNFUNDED": "a loan that never turned ACTIVE has repaid 0, outstanding 0 and no repayment",
    "REPAYMENT_EVENTS": "the history has one REPAYMENT_RECORDED per repayment (a retried repayment pays once)",
    "COMPLETED_EVENTS": "the history has one LOAN_COMPLETED exactly when the loan is COMPLETED",
    # The retries' rules (`replays.py`): about requests and borrowers, not one loan's document.
    "REPLAY_DIFFERS": "a retry with the first request's Idempotency-Key gets its answer: the same status and body",
    "REPLAY_MISSING": (
        "of two attempts with one key, one ran and the other is its replay (Idempotent-Replayed: true), "
        "never left IN_USE"
    ),
    "LOAN_CREATED_TWICE": "a borrower has at most one loan per create they sent (one per Idempotency-Key)",
    "REPAID_TWICE": "a loan has at most one repayment per repayment sent on it (one per Idempotency-Key)",
}
KEY_RULES = {"REPLAY_DIFFERS", "REPLAY_MISSING", "LOAN_CREATED_TWICE", "REPAID_TWICE"}
LEDGER_RULES = {
    "REPAID_NOT_SUM",
    "SHARES_NOT_AMOUNT",
    "SHARE_NOT_PRO_RATA",
    "APPLIED_NOT_AMOUNT",
    "REPAYMENT_NUMBERS",
    "OUTSTANDING_WRONG",
    "COMPLETED_WRONG",
    "REPAID_UNFUNDED",
    "REPAYMENT_EVENTS",
    "COMPLETED_EVENTS",
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


def moment(value: object) -> datetime:
    """A timestamp with its offset, or ValueError."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(f"not a timestamp with an offset: {value!r}")
    return parsed


def accepted_sum(loan: Mapping) -> Decimal:
    return sum(
        (money(p["funded_amount"]) for p in loan.get("participants", []) if p.get("status") == "ACCEPTED"), Decimal(0)
    )


def check_loan(loan: Mapping, expected: Mapping | None = None, *, settled: bool = True) -> list[Violation]:
    """Every broken invariant of one loan document (empty when it is sound).

    `expected` is what the run recorded: the `amount` the loan was created with and every
    `lenders` email it invited (at creation or later). `settled=False` is for reads taken while
    the run goes on: the borrower's view is two reads (the loan, then its participants), so the
    participants may be newer than the loan (an acceptance, or a cancel or expiry closing them,
    landed in between), never older.
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
        deadline = moment(loan["funding_deadline"])
        closed_at = None if loan["closed_at"] is None else moment(loan["closed_at"])
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
    if status in FUNDED_LOAN and total != amount:
        broken("ACTIVE_NOT_FULL", f"{status} with total_funded {total} of {amount}")
    if total == amount and status not in FUNDED_LOAN:
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
        if participant_status in COMMITTED:
            if not 0 < funded[i] <= contribution[i]:
                broken(
                    "ACCEPTED_AMOUNT",
                    f"{participant_status} participant {who} funded {funded[i]} of a {contribution[i]} contribution",
                )
        elif funded[i] != 0:
            broken("UNACCEPTED_FUNDED", f"{participant_status} participant {who} has funded_amount {funded[i]}")

    if status in CLOSED_LOAN:
        if total != 0:
            broken("CLOSED_LOAN_FUNDED", f"{status} with total_funded {total}")
        still_open = sorted(f"{_who(participants[i])} {s}" for i, s in statuses.items() if s in OPEN_PARTICIPANT)
        if still_open:
            broken("CLOSED_LOAN_OPEN_PARTICIPANT", f"{status} loan with participants {still_open}")
    elif settled:
        ended = sorted(f"{_who(participants[i])} {s}" for i, s in statuses.items() if s in CLOSED_PARTICIPANT)
        if ended:
            broken("CLOSED_PARTICIPANT_OPEN_LOAN", f"{status} loan with participants {ended}")

    if status == "EXPIRED" and closed_at != deadline:
        broken("CLOSED_AT_WRONG", f"EXPIRED with closed_at {loan['closed_at']}, deadline {loan['funding_deadline']}")
    elif status == "CANCELLED" and (closed_at is None or closed_at >= deadline):
        broken("CLOSED_AT_WRONG", f"CANCELLED at {loan['closed_at']}, deadline {loan['funding_deadline']}")
    elif (status == "COMPLETED") != (closed_at is not None) and status not in CLOSED_LOAN:
        broken("CLOSED_AT_WRONG", f"{status} with closed_at {loan['closed_at']}")

    if expected:
        if "amount" in expected and money(expected["amount"]) != amount:
            broken("AMOUNT_CHANGED", f"amount {amount}, created with {expected['amount']}")
        if "lenders" in expected:
            invited = {str(e).lower() for e in expected["lenders"]}
            if invited != set(emails):
                missing, extra = sorted(invited - set(emails)), sorted(set(emails) - invited)
                broken("PARTICIPANTS_CHANGED", f"missing {missing}, unexpected {extra}")
    return found


def replay(events: list[Mapping]) -> tuple[str | None, Decimal]:
    """The loan's status and `total_funded` after these events, in order: the last event's
    `to_status`, and what INVITATION_ACCEPTED events funded since the last cancel or expiry
    (the semantics of `service.domain.events.replay`)."""
    status, total = None, Decimal(0)
    for event in events:
        if event["type"] == "INVITATION_ACCEPTED":
            total += money(event["data"]["funded_amount"])
        elif event["type"] in ("LOAN_CANCELLED", "LOAN_EXPIRED"):
            total = Decimal(0)
        status = event["to_status"]
    return status, total


def check_history(
    loan_id: str, events: list[Mapping], loan: Mapping | None = None, *, expiry_ran_at: datetime | None = None
) -> list[Violation]:
    """Every broken rule of one loan's history, read in full and oldest first; with `loan`
    (read after it), also whether replaying it gives the loan's status and total.

    Reads show a loan EXPIRED the moment its deadline passes, but the LOAN_EXPIRED event is
    written by the expiry job: a history that ends PENDING is consistent with a loan read as
    EXPIRED, unless the job ran (`expiry_ran_at`) after that loan's deadline.
    """
    found: list[Violation] = []

    def broken(rule: str, detail: str) -> None:
        found.append(Violation(loan_id, rule, detail))

    try:
        sequences = [e["sequence"] for e in events]
        types = [e["type"] for e in events]
        chain = [(e["from_status"], e["to_status"]) for e in events]
        acceptances = Counter(str(e["data"]["lender_id"]) for e in events if e["type"] == "INVITATION_ACCEPTED")
        unknown = sorted({t for t in types if t not in EVENT_TYPES})
        if unknown:
            raise ValueError(f"unknown event types {unknown}")
        status, total = replay(events)
    except (KeyError, TypeError, ValueError) as exc:
        broken("MALFORMED", f"history: {type(exc).__name__}: {exc}")
        return found

    if sequences != list(range(1, len(events) + 1)):
        broken("SEQUENCE_GAP", f"sequences {_runs(sequences)} for {len(events)} events")
    if not events or types[0] != "LOAN_CREATED" or chain[0] != (None, "PENDING"):
        first = f"{types[0]} {chain[0][0]} -> {chain[0][1]}" if events else "no event"
        broken("HISTORY_START", f"the history starts with {first}")
    again = [s for s, t in zip(sequences, types, strict=True) if t == "LOAN_CREATED"][1:]
    if again:
        broken("HISTORY_START", f"LOAN_CREATED again at sequences {again}")
    for i in range(1, len(events)):
        if chain[i][0] != chain[i - 1][1]:
            broken("STATUS_CHAIN", f"{types[i]} at {sequences[i]} from {chain[i][0]}, after {chain[i - 1][1]}")

    twice = sorted(lender for lender, count in acceptances.items() if count > 1)
    if twice:
        broken("ACCEPTED_TWICE", f"more than one INVITATION_ACCEPTED of lenders {twice}")

    if loan is not None:
        try:
            loan_status, loan_total = loan["status"], money(loan["total_funded"])
            deadline = moment(loan["funding_deadline"])
        except (KeyError, TypeError, ValueError):
            return found  # check_loan reports it
        if status == "PENDING" and loan_status == "EXPIRED" and not (expiry_ran_at and deadline <= expiry_ran_at):
            status, total = "EXPIRED", Decimal(0)  # its LOAN_EXPIRED is the job's to write
        if status != loan_status:
            ran = f"; the expiry job ran at {expiry_ran_at.isoformat()}" if expiry_ran_at else ""
            broken("REPLAY_STATUS", f"the history replays to {status}, the loan is {loan_status}{ran}")
        if total != loan_total:
            broken("REPLAY_TOTAL", f"the history replays to {total} funded, the loan has {loan_total}")
    return found


def _runs(numbers: list[object]) -> str:
    shown = ", ".join(map(str, numbers[:12]))
    return f"[{shown}{', ...' if len(numbers) > 12 else ''}]"


def _who(participant: Mapping) -> str:
    return str(participant.get("lender_id") or participant.get("email") or "?")


@dataclass
class Report:
    """What checking a run's loans found."""

    loans_checked: int = 0
    histories_checked: int = 0
    accepted_participants: int = 0
    total_funded: Decimal = Decimal(0)
    repayments_checked: int = 0
    total_repaid: Decimal = Decimal(0)
    loans_by_status: Counter = field(default_factory=Counter)
    participants_by_status: Counter = field(default_factory=Counter)
    events_by_type: Counter = field(default_factory=Counter)
    expiry_ran_at: str | None = None  # the last run of the expiry job the check relied on
    borrowers_checked: int = 0  # borrowers whose loans were counted against the creates recorded
    retries: Counter = field(default_factory=Counter)  # retried requests by mode, replays, IN_USE answers
    loans_unanswered: list[str] = field(default_factory=list)  # a borrower's, from a create sent, never answered
    unreadable: list[str] = field(default_factory=list)  # loans (or histories) the API would not return
    settled_on_reread: list[str] = field(default_factory=list)  # torn reads, sound when read again
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.unreadable

    @property
    def loans_active(self) -> int:
        return self.loans_by_status["ACTIVE"]

    def by_rule(self) -> dict[str, int]:
        return dict(Counter(v.rule for v in self.violations))

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "loans_checked": self.loans_checked,
            "histories_checked": self.histories_checked,
            "loans_active": self.loans_active,
            "loans_by_status": dict(sorted(self.loans_by_status.items())),
            "participants_by_status": dict(sorted(self.participants_by_status.items())),
            "events_by_type": dict(sorted(self.events_by_type.items())),
            "accepted_participants": self.accepted_participants,
            "total_funded": str(self.total_funded),
            "repayments_checked": self.repayments_checked,
            "total_repaid": str(self.total_repaid),
            "expiry_ran_at": self.expiry_ran_at,
            "borrowers_checked": self.borrowers_checked,
            "retries": dict(sorted(self.retries.items())),
            "loans_unanswered": self.loans_unanswered,
            "unreadable": self.unreadable,
            "settled_on_reread": self.settled_on_reread,
            "violations_by_rule": self.by_rule(),
            "violations": [str(v) for v in self.violations],
        }


def check_loans(
    loans: Iterable[Mapping],
    expected: Mapping[str, Mapping] | None = None,
    histories: Mapping[str, list[Mapping]] | None = None,
    expiry_ran_at: datetime | None = None,
    ledgers: Mapping[str, Mapping] | None = None,
) -> Report:
    """Check settled loans; `expected` maps loan ids to what the run recorded, `histories` to
    each loan's events (a loan without one is checked without), `ledgers` (if given) each ACTIVE
    or COMPLETED loan's `schedule` and `repayments` (`ledger.py`; one without is not checked,
    the others must have repaid nothing)."""
    from loadtests.ledger import REPAYING, check_ledger  # it builds on this module

    report = Report(expiry_ran_at=expiry_ran_at.isoformat() if expiry_ran_at else None)
    for loan in loans:
        loan_id = str(loan.get("loan_id"))
        report.loans_checked += 1
        found = check_loan(loan, (expected or {}).get(loan_id))
        report.violations += found
        if histories is not None and loan_id in histories:
            report.histories_checked += 1
            report.violations += check_history(loan_id, histories[loan_id], loan, expiry_ran_at=expiry_ran_at)
            report.events_by_type.update(str(e.get("type")) for e in histories[loan_id])
        if ledgers is not None and (loan_id in ledgers or loan.get("status") not in REPAYING):
            ledger = ledgers.get(loan_id, {})
            repayments = ledger.get("repayments", [])
            history = (histories or {}).get(loan_id)
            broken = check_ledger(loan, ledger.get("schedule"), repayments, history)
            report.violations += broken
            if not any(v.rule == "MALFORMED" for v in broken):
                report.repayments_checked += len(repayments)
                report.total_repaid += sum((money(r["amount"]) for r in repayments), Decimal(0))
        if not any(v.rule == "MALFORMED" for v in found):
            report.loans_by_status[loan["status"]] += 1
            report.participants_by_status.update(p["status"] for p in loan["participants"])
            report.accepted_participants += sum(p["status"] == "ACCEPTED" for p in loan["participants"])
            report.total_funded += money(loan["total_funded"])
    return report
