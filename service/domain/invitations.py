"""An invitation to an email with no verified account when the loan was made."""

from dataclasses import dataclass
from decimal import Decimal

from .lifecycle import InvitationStatus, parse_status
from .loans import Loan, Participant


@dataclass(frozen=True)
class Invitation:
    """It carries the participation's terms, so that activating it (when the address's owner
    proves it) needs no read of the loan."""

    invitation_id: str
    loan_id: str
    inviter_id: str
    email: str
    contribution_amount: Decimal
    interest_rate: Decimal
    term: str
    created_at: str
    status: InvitationStatus = InvitationStatus.PENDING

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_status(InvitationStatus, self.status))

    @classmethod
    def for_participant(cls, invitation_id: str, loan: Loan, participant: Participant) -> "Invitation":
        return cls(
            invitation_id=invitation_id,
            loan_id=loan.loan_id,
            inviter_id=loan.borrower_id,
            email=participant.email,
            contribution_amount=participant.contribution_amount,
            interest_rate=participant.interest_rate,
            term=participant.term,
            created_at=participant.invited_at,
        )

    def participant_for(self, lender_id: str) -> Participant:
        return Participant(
            loan_id=self.loan_id,
            email=self.email,
            lender_id=lender_id,
            contribution_amount=self.contribution_amount,
            interest_rate=self.interest_rate,
            term=self.term,
            invited_at=self.created_at,
        )
