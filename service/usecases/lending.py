"""Creating loans, reading them, and accepting invitations to fund them."""

import random
import time
from dataclasses import dataclass

from ..domain import loans
from ..domain.ach import AchDetails
from ..domain.errors import AccessDenied, InvalidToken, LoanNotFound, StoreUnavailable
from ..domain.loans import Invitation, Loan, LoanApplication, Participant
from ..store import AchVault, Page, Store
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


def create_loan(store: Store, user_id: str, body: dict) -> LoanView:
    application = LoanApplication.from_request(body)
    borrower, owners = store.load_borrower(user_id, application.emails)
    if borrower is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
    application.check_borrower(borrower.email)
    loan = loans.new_loan(application, new_id(), borrower.user_id, borrower.name, utc_now())
    participants = [
        loans.invite(loan, lender, owners.get(lender.email)) for lender in application.lenders
    ]
    invitations = [
        Invitation.for_participant(new_id(), loan, p) for p in participants if not p.registered
    ]
    store.create_loan(loan, participants, invitations, borrower)
    return LoanView(loan, participants)


def _membership(store: Store, user_id: str, loan_id: str) -> Membership:
    membership = store.load_membership(loan_id, user_id)
    if membership.user is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
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
    return page


def accept_loan(store: Store, vault: AchVault, user_id: str, loan_id: str,
                ach: AchDetails) -> loans.Funding:
    """Fund the loan with the caller's contribution (or what remains of the loan).

    Each attempt reads once and writes once; a lost race re-reads, so the answer always
    reflects the loan as it was when the write succeeded or the refusal was decided. The
    bank numbers are sealed once, and only when there is something to write.
    """
    sealed_numbers = None
    for attempt in range(MAX_ACCEPT_ATTEMPTS):
        found = _membership(store, user_id, loan_id)
        funding = loans.accept(found.loan, found.participant, utc_now())
        sealed_numbers = sealed_numbers or vault.seal(ach, user_id, loan_id)
        try:
            store.record_acceptance(found.loan, funding, ach, sealed_numbers)
            return funding
        except Contention:
            # Jitter spreads the re-reads of lenders who lost the same race.
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
    raise StoreUnavailable("The loan is too busy right now; please retry.")
