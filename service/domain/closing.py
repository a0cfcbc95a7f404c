"""Ending a loan before it is funded: the borrower cancels it, or its deadline passes.

Either way the same happens to its participations: those still pending are closed, and
accepted ones are released (their commitment stops counting, and the loan's `total_funded`
returns to zero). The loan is final afterwards.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from .errors import AccessDenied
from .lifecycle import LOANS, PARTICIPANTS, LoanEvent, ParticipantEvent, ParticipantStatus
from .loans import Loan, Participant
from .money import ZERO


@dataclass(frozen=True)
class Closing:
    """The loan as it ends, and the participations it changes (as they were and will be)."""

    before: Loan
    loan: Loan
    changes: tuple[tuple[Participant, Participant], ...]

    @property
    def released(self) -> Decimal:
        return self.before.total_funded

    @property
    def released_participants(self) -> list[Participant]:
        return [after for _, after in self.changes if after.status == ParticipantStatus.RELEASED]


_ON_CLOSE = {ParticipantStatus.PENDING: ParticipantEvent.CLOSE, ParticipantStatus.ACCEPTED: ParticipantEvent.RELEASE}


def _close(loan: Loan, participants: list[Participant], event: LoanEvent, when: str) -> Closing:
    closed = replace(loan, status=LOANS.next(loan.status, event), total_funded=ZERO, closed_at=when)
    changes = tuple(
        (p, replace(p, status=PARTICIPANTS.next(p.status, _ON_CLOSE[p.status])))
        for p in participants
        if p.status in _ON_CLOSE
    )
    return Closing(loan, closed, changes)


def cancel(loan: Loan, participants: list[Participant], borrower_id: str, now: str) -> Closing:
    """The borrower withdraws a PENDING loan."""
    if loan.borrower_id != borrower_id:
        raise AccessDenied("Only the loan's borrower may cancel it.")
    loan.refuse_if_expired(now)
    return _close(loan, participants, LoanEvent.CANCEL, now)


def expire(loan: Loan, participants: list[Participant]) -> Closing:
    """The loan as its deadline left it: expired, at the deadline."""
    return _close(loan, participants, LoanEvent.EXPIRE, loan.funding_deadline)


def as_of(loan: Loan, participants: list[Participant], now: str) -> tuple[Loan, list[Participant]]:
    """What a reader sees at `now`: a PENDING loan past its deadline is expired already,
    whether or not the expiry job has written it yet."""
    if not loan.past_deadline(now):
        return loan, participants
    closing = expire(loan, participants)
    changed = {before.email: after for before, after in closing.changes}
    return closing.loan, [changed.get(p.email, p) for p in participants]
