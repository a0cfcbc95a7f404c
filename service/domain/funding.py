"""What an invited lender can do: accept (fund) or decline.

Funding is first come, first served: an acceptance that finds less remaining than the lender's
contribution funds what remains; one that finds nothing remaining is refused and changes
nothing; the one that completes the funding turns the loan ACTIVE. Whatever the answer, the
contract's own codes come first, then the loan's and the participation's transition tables.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from .errors import AccessDenied, AlreadyAccepted, InvalidInput, InvitationDeclined, LoanFullyFunded
from .lifecycle import LOANS, PARTICIPANTS, LoanEvent, LoanStatus, ParticipantEvent, ParticipantStatus
from .loans import Loan, Participant


@dataclass(frozen=True)
class Funding:
    """What one acceptance does: the loan and the participant as they will be stored."""

    loan: Loan
    participant: Participant

    def __post_init__(self) -> None:
        if self.participant.status != ParticipantStatus.ACCEPTED or self.participant.loan_id != self.loan.loan_id:
            raise InvalidInput("A funding accepts a participation of this loan.")

    @property
    def amount(self) -> Decimal:
        return self.participant.funded_amount


def _invited(loan: Loan, participant: Participant | None, now: str, event: LoanEvent) -> Participant:
    """The caller's participation, if they may still answer it; else why not."""
    if participant is None:
        raise AccessDenied("You are not invited to fund this loan.")
    loan.refuse_if_expired(now)
    if participant.status == ParticipantStatus.ACCEPTED:
        raise AlreadyAccepted("You have already accepted this loan.")
    if participant.status == ParticipantStatus.DECLINED:
        raise InvitationDeclined("You declined this loan.")
    if event == LoanEvent.ACCEPT and loan.status == LoanStatus.ACTIVE:
        raise LoanFullyFunded("This loan is already fully funded.")
    LOANS.next(loan.status, event)
    return participant


def accept(loan: Loan, participant: Participant | None, now: str) -> Funding:
    """Decide one acceptance against the loan as last read, or raise why it cannot happen."""
    invited = _invited(loan, participant, now, LoanEvent.ACCEPT)
    accepted = PARTICIPANTS.next(invited.status, ParticipantEvent.ACCEPT)
    funded = min(invited.contribution_amount, loan.remaining)
    total = loan.total_funded + funded
    completes = total == loan.amount
    return Funding(
        loan=replace(
            loan,
            total_funded=total,
            status=LOANS.next(loan.status, LoanEvent.FULLY_FUNDED) if completes else loan.status,
            activated_at=now if completes else None,
        ),
        participant=replace(invited, status=accepted, funded_amount=funded, responded_at=now),
    )


def decline(loan: Loan, participant: Participant | None, now: str, reason: str | None) -> Participant:
    """The participation declined, or why it cannot be."""
    invited = _invited(loan, participant, now, LoanEvent.DECLINE)
    declined = PARTICIPANTS.next(invited.status, ParticipantEvent.DECLINE)
    return replace(invited, status=declined, responded_at=now, decline_reason=reason or None)
