"""Creating loans and reading them: the borrower's and the invited lenders' views."""

from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..domain import applications
from ..domain.applications import LoanApplication
from ..domain.errors import AccessDenied, LoanNotFound, StoreUnavailable
from ..domain.invitations import Invitation
from ..domain.loans import Loan, Participant, can_view, funded_total
from ..domain.messages import invitation_email
from ..domain.verification import require_verified
from . import existing, new_id
from .ports import Clock, Mailer, Membership, Page, Storage, UnitOfWork

MAX_SNAPSHOT_READS = 10


@dataclass(frozen=True)
class LoanView:
    """A loan as one user may see it: the borrower sees every participant, a lender only
    their own participation."""

    loan: Loan
    participants: list[Participant]


def membership(uow: UnitOfWork, user_id: str, loan_id: str, verified: bool = False) -> Membership:
    """The caller, the loan and their participation; `verified`: the caller must have proved
    their email (checked before anything about the loan is said)."""
    found = uow.membership(loan_id, user_id)
    user = existing(found.user)
    if verified:
        require_verified(user.email_verified)
    if found.loan is None:
        raise LoanNotFound("Loan not found.")
    return found


class LoanService:
    def __init__(self, store: Storage, mailer: Mailer, clock: Clock, settings: Settings):
        self.store = store
        self.mailer = mailer
        self.clock = clock
        self.settings = settings

    def create(self, user_id: str, body: dict[str, Any]) -> LoanView:
        """A PENDING loan. Invitees with a verified account take part at once; every other
        email gets an invitation, and an email saying so, and takes part once its owner has a
        verified account. One read, one transaction."""
        application = LoanApplication.from_request(body)
        uow = self.store.unit_of_work()
        borrower, owners = uow.borrower_and_owners(user_id, application.emails)
        borrower = existing(borrower)
        require_verified(borrower.email_verified)
        application.check_borrower(borrower.email)
        loan = applications.new_loan(application, new_id(), borrower.user_id, borrower.name, self.clock.timestamp())
        participants = [applications.invite(loan, lender, owners.get(lender.email)) for lender in application.lenders]
        invitations = [Invitation.for_participant(new_id(), loan, p) for p in participants if not p.registered]
        uow.loans.add(loan)
        uow.users.make_borrower(borrower.user_id)
        for participant in participants:
            uow.participants.add(participant)
            if participant.lender_id is not None:
                uow.users.make_lender(participant.lender_id)
        for invitation in invitations:
            uow.invitations.add(invitation)
        uow.commit()
        for invitation in invitations:
            self.mailer.send(
                invitation_email(
                    invitation.email, borrower.name, invitation.contribution_amount, self.settings.app_base_url
                )
            )
        return LoanView(loan, participants)

    def get(self, user_id: str, loan_id: str) -> LoanView:
        uow = self.store.unit_of_work()
        found = membership(uow, user_id, loan_id)
        loan = found.loan
        assert loan is not None  # membership() says so
        if not can_view(loan, user_id, found.participant):
            raise AccessDenied("You do not have access to this loan.")
        if loan.borrower_id == user_id:
            return self._borrower_view(uow, loan)
        assert found.participant is not None  # can_view() says so
        return LoanView(loan, [found.participant])

    def _borrower_view(self, uow: UnitOfWork, loan: Loan) -> LoanView:
        """The loan and its participants as one snapshot. They are two reads, and an
        acceptance can land between them; it writes both in one transaction, so re-reading
        until they agree gives a view that existed."""
        for _ in range(MAX_SNAPSHOT_READS):
            participants = uow.participants.of_loan(loan.loan_id)
            if funded_total(participants) == loan.total_funded:
                return LoanView(loan, participants)
            loan = uow.loans.get_many({loan.loan_id})[0]
        raise StoreUnavailable("The loan is too busy right now; please retry.")

    def of_borrower(self, user_id: str, limit: int, cursor: str | None) -> Page:
        uow = self.store.unit_of_work()
        existing(uow.users.get(user_id))
        return uow.loans.page_of_borrower(user_id, limit, cursor)

    def pending_invitations(self, user_id: str, limit: int, cursor: str | None) -> Page:
        """A page of (participation, loan) pairs; empty until the caller's email is verified
        (nothing is attached to an unverified account: this keeps it so whatever the data)."""
        user, page = self.store.unit_of_work().pending_participations(user_id, limit, cursor)
        return page if existing(user).email_verified else Page([], None)
