"""A loan's history: one event per change, written with the change, never altered.

Each event names the loan's status before and after it, and what changed; replaying a loan's
events from `LOAN_CREATED` gives its status and `total_funded`. An event's `sequence` is its
place in the loan's list of events (see the store), so it has no gaps by construction.
"""

import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .closing import Closing
from .funding import Funding
from .lifecycle import LoanStatus
from .loans import Loan, Participant
from .money import ZERO


class EventType(StrEnum):
    LOAN_CREATED = "LOAN_CREATED"
    LENDERS_INVITED = "LENDERS_INVITED"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    INVITATION_DECLINED = "INVITATION_DECLINED"
    LOAN_ACTIVATED = "LOAN_ACTIVATED"
    LOAN_CANCELLED = "LOAN_CANCELLED"
    LOAN_EXPIRED = "LOAN_EXPIRED"


# Events about the whole loan, which every participant may see as they are.
LOAN_LEVEL = frozenset({EventType.LOAN_ACTIVATED, EventType.LOAN_CANCELLED, EventType.LOAN_EXPIRED})


@dataclass(frozen=True)
class LoanEventRecord:
    loan_id: str
    borrower_id: str
    type: EventType
    at: str
    actor_id: str | None
    from_status: LoanStatus | None
    to_status: LoanStatus
    data: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", EventType(self.type))
        object.__setattr__(self, "to_status", LoanStatus(self.to_status))
        if self.from_status is not None:
            object.__setattr__(self, "from_status", LoanStatus(self.from_status))


def _lenders(participants: list[Participant]) -> list[dict[str, Any]]:
    return [
        {"email": p.email, "lender_id": p.lender_id, "contribution_amount": p.contribution_amount} for p in participants
    ]


def _event(
    loan: Loan,
    kind: EventType,
    at: str,
    actor: str | None,
    before: LoanStatus | None,
    data: dict[str, Any],
    after: LoanStatus | None = None,
) -> LoanEventRecord:
    return LoanEventRecord(loan.loan_id, loan.borrower_id, kind, at, actor, before, after or loan.status, data)


def created(loan: Loan, participants: list[Participant]) -> LoanEventRecord:
    data = {"amount": loan.amount, "funding_deadline": loan.funding_deadline, "lenders": _lenders(participants)}
    return _event(loan, EventType.LOAN_CREATED, loan.created_at, loan.borrower_id, None, data)


def invited(loan: Loan, participants: list[Participant], at: str) -> LoanEventRecord:
    return _event(
        loan, EventType.LENDERS_INVITED, at, loan.borrower_id, loan.status, {"lenders": _lenders(participants)}
    )


def accepted(before: Loan, funding: Funding) -> list[LoanEventRecord]:
    """The acceptance, and the activation if it completed the funding."""
    p, at = funding.participant, str(funding.participant.responded_at)
    data = {"lender_id": p.lender_id, "email": p.email, "funded_amount": p.funded_amount}
    events = [_event(before, EventType.INVITATION_ACCEPTED, at, p.lender_id, before.status, data, before.status)]
    if funding.loan.status != before.status:
        events.append(
            _event(
                funding.loan,
                EventType.LOAN_ACTIVATED,
                at,
                p.lender_id,
                before.status,
                {"total_funded": funding.loan.total_funded},
            )
        )
    return events


def declined(loan: Loan, participant: Participant) -> LoanEventRecord:
    data = {"lender_id": participant.lender_id, "email": participant.email, "reason": participant.decline_reason}
    return _event(
        loan, EventType.INVITATION_DECLINED, str(participant.responded_at), participant.lender_id, loan.status, data
    )


def closed(closing: Closing, actor: str | None, reason: str | None = None) -> LoanEventRecord:
    """`LOAN_CANCELLED` (by `actor`) or `LOAN_EXPIRED` (by the system)."""
    loan = closing.loan
    kind = EventType.LOAN_CANCELLED if loan.status == LoanStatus.CANCELLED else EventType.LOAN_EXPIRED
    data: dict[str, Any] = {"released": closing.released}
    if kind == EventType.LOAN_CANCELLED:
        data["reason"] = reason
    return _event(loan, kind, str(loan.closed_at), actor, closing.before.status, data)


def replay(events: list[LoanEventRecord]) -> tuple[LoanStatus | None, Decimal]:
    """The loan's status and `total_funded` after these events, in order."""
    status, total = None, ZERO
    for event in events:
        if event.type == EventType.INVITATION_ACCEPTED:
            total += Decimal(str(event.data["funded_amount"]))
        elif event.type in (EventType.LOAN_CANCELLED, EventType.LOAN_EXPIRED):
            total = ZERO
        status = event.to_status
    return status, total


def seen_by(event: LoanEventRecord, user_id: str, email: str) -> LoanEventRecord | None:
    """The event as a lender of the loan may see it: loan-level events, their own answers, and
    invitations reduced to their own; never another lender's email, amount or id (a loan
    another lender's acceptance activated shows no actor)."""
    if event.type in LOAN_LEVEL:
        return event if event.actor_id in (user_id, event.borrower_id, None) else replace(event, actor_id=None)
    if event.type in (EventType.LOAN_CREATED, EventType.LENDERS_INVITED):
        mine = [
            lender
            for lender in event.data.get("lenders", [])
            if lender.get("lender_id") == user_id or lender.get("email") == email
        ]
        if not mine and event.type == EventType.LENDERS_INVITED:
            return None
        return replace(event, data={**event.data, "lenders": mine})
    return event if event.data.get("lender_id") == user_id else None
