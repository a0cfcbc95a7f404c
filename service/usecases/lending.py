"""Creating loans, reading them, and accepting invitations to fund them."""

import random
import time
from dataclasses import dataclass

from ..config import Settings
from ..domain import loans
from ..domain.ach import AchDetails
from ..domain.errors import AccessDenied, InvalidToken, LoanNotFound, StoreUnavailable
from ..domain.loans import Invitation, Loan, LoanApplication, Participant
from ..domain.messages import invitation_email
from ..domain.verification import require_verified
from ..store import AchVault, Page, SesMailer, Store
from ..store.dynamo import Contention, Membership
from . import new_id, utc_now
from .accounts import current_user

# Every lost race means another acceptance succeeded, and a loan takes at most 40, so this
# bound is only reached under pathological contention (then: DATABASE_ERROR, safe to retry).
MAX_ACCEPT_ATTEMPTS = 40
MAX_SNAPSHOT_READS = 10


@dataclass(frozen=True)
class LoanView:
    """A loan as one user may see it: the borrower sees every participant, a lender only
    their own participation."""

    loan: Loan
    participants: list[Participant]


def create_loan(store: Store, mailer: SesMailer, config: Settings, user_id: str, body: dict) -> LoanView:
    """A PENDING loan. Invitees with a verified account take part at once; every other
    email gets an invitation, and an email saying so, and takes part once its owner has a
    verified account."""
    application = LoanApplication.from_request(body)
    borrower, owners = store.load_borrower(user_id, application.emails)
    if borrower is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
    require_verified(borrower.email_verified)
    application.check_borrower(borrower.email)
    loan = loans.new_loan(application, new_id(), borrower.user_id, borrower.name, utc_now())
    participants = [
        loans.invite(loan, lender, owners.get(lender.email)) for lender in application.lenders
    ]
    invitations = [
        Invitation.for_participant(new_id(), loan, p) for p in participants if not p.registered
    ]
    store.create_loan(loan, participants, invitations, borrower)
    for invitation in invitations:
        mailer.send(invitation_email(invitation.email, borrower.name, invitation.contribution_amount,
                                     config.app_base_url))
    return LoanView(loan, participants)


def _membership(store: Store, user_id: str, loan_id: str, verified: bool = False) -> Membership:
    """The caller, the loan and their participation; `verified`: the caller must have
    proved their email (checked before anything about the loan is said)."""
    membership = store.load_membership(loan_id, user_id)
    if membership.user is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
    if verified:
        require_verified(membership.user.email_verified)
    if membership.loan is None:
        raise LoanNotFound("Loan not found.")
    return membership


def get_loan(store: Store, user_id: str, loan_id: str) -> LoanView:
    found = _membership(store, user_id, loan_id)
    if not loans.can_view(found.loan, user_id, found.participant):
        raise AccessDenied("You do not have access to this loan.")
    if found.loan.borrower_id == user_id:
        return _borrower_view(store, found.loan)
    return LoanView(found.loan, [found.participant])


def _borrower_view(store: Store, loan: Loan) -> LoanView:
    """The loan and its participants as one snapshot. They are two reads, and an acceptance
    can land between them; it writes both in one transaction, so re-reading until they
    agree gives a view that existed."""
    for _ in range(MAX_SNAPSHOT_READS):
        participants = store.participants_of(loan.loan_id)
        if loans.funded_total(participants) == loan.total_funded:
            return LoanView(loan, participants)
        loan = store.loans_by_id({loan.loan_id})[0]
    raise StoreUnavailable("The loan is too busy right now; please retry.")


def my_loans(store: Store, user_id: str, limit: int, cursor: str | None) -> Page:
    current_user(store, user_id)
    return store.loans_of_borrower(user_id, limit, cursor)


def pending_invitations(store: Store, user_id: str, limit: int, cursor: str | None) -> Page:
    """A page of (participation, loan) pairs."""
    user, page = store.pending_participations(user_id, limit, cursor)
    if user is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
    # Nothing is ever attached to an unverified account; this keeps it so whatever the data.
    return page if user.email_verified else Page([], None)


def accept_loan(store: Store, vault: AchVault, user_id: str, loan_id: str,
                ach: AchDetails) -> loans.Funding:
    """Fund the loan with the caller's contribution (or what remains of the loan).

    One read, then one write per attempt. A write that leaves room in the loan needs only
    that room, so concurrent acceptances rarely collide; one that lost a race carries back
    the loan and participation as DynamoDB found them, and the decision is made again on
    those (a re-read only when it could not say). The answer's loan includes this
    acceptance; acceptances by others that committed at the same moment may not be in it
    yet. The bank numbers are sealed once, and only when there is something to write.
    """
    found = _membership(store, user_id, loan_id, verified=True)
    loan, participant = found.loan, found.participant
    sealed_numbers = None
    for attempt in range(MAX_ACCEPT_ATTEMPTS):
        funding = loans.accept(loan, participant, utc_now())
        sealed_numbers = sealed_numbers or vault.seal(ach, user_id, loan_id)
        try:
            store.record_acceptance(funding, ach, sealed_numbers)
            return funding
        except Contention as lost:
            if lost.loan is None and lost.participant is None:
                # A conflict DynamoDB did not explain: jitter, then read again.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
                found = _membership(store, user_id, loan_id)
                loan, participant = found.loan, found.participant
            else:
                loan, participant = lost.loan or loan, lost.participant or participant
    raise StoreUnavailable("The loan is too busy right now; please retry.")
