"""The funding rule: first come, first served.

An acceptance that finds less remaining than the lender's contribution funds what remains;
one that finds nothing remaining is refused and changes nothing; the one that completes the
funding turns the loan ACTIVE.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from .errors import AccessDenied, AlreadyAccepted, InvalidInput, LoanFullyFunded
from .lifecycle import LOANS, PARTICIPANTS, LoanEvent, ParticipantEvent, ParticipantStatus
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


def accept(loan: Loan, participant: Participant | None, now: str) -> Funding:
    """Decide one acceptance against the loan as last read, or raise why it cannot happen."""
    if participant is None:
        raise AccessDenied("You are not invited to fund this loan.")
    if participant.status == ParticipantStatus.ACCEPTED:
        raise AlreadyAccepted("You have already accepted this loan.")
    if loan.remaining <= 0:
        raise LoanFullyFunded("This loan is already fully funded.")
    accepted = PARTICIPANTS.next(participant.status, ParticipantEvent.ACCEPT)
    funded = min(participant.contribution_amount, loan.remaining)
    total = loan.total_funded + funded
    completes = total == loan.amount
    return Funding(
        loan=replace(
            loan,
            total_funded=total,
            status=LOANS.next(loan.status, LoanEvent.FULLY_FUNDED) if completes else loan.status,
            activated_at=now if completes else None,
        ),
        participant=replace(participant, status=accepted, funded_amount=funded, responded_at=now),
    )
