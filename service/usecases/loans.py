"""Creating loans and reading them: the borrower's and the invited lenders' views."""

from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..domain import applications, events
from ..domain.applications import LenderInvite, LoanApplication
from ..domain.closing import as_of
from ..domain.deadlines import funding_deadline
from ..domain.errors import AccessDenied, LoanNotFound
from ..domain.invitations import Invitation
from ..domain.loans import Loan, Participant, can_view, funded_total
from ..domain.verification import require_verified
from . import existing, new_id, too_busy
from .ports import Clock, Membership, Storage, UnitOfWork
from .repositories import Page

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


def visible_loan(found: Membership, user_id: str) -> Loan:
    """The loan of `found`, which the caller must be the borrower or an invited lender of."""
    loan = found.loan
    assert loan is not None  # membership() says so
    if not can_view(loan, user_id, found.participant):
        raise AccessDenied("You do not have access to this loan.")
    return loan


def own_loan(found: Membership, user_id: str) -> Loan:
    """The loan of `found`, which must be the caller's: a lender of it may not, anyone else may
    not even see it."""
    loan = found.loan
    assert loan is not None  # membership() says so
    if loan.borrower_id != user_id:
        raise AccessDenied(
            "Only the loan's borrower may do this." if found.participant else "You do not have access to this loan."
        )
    return loan


def queue_invitations(
    uow: UnitOfWork, loan: Loan, lenders: tuple[LenderInvite, ...], owners: dict[str, str], now: str
) -> list[Participant]:
    """The participants these lenders become (queued, with the invitations of emails that have
    no verified account yet, and the lender role of those that have one)."""
    participants = [applications.invite(loan, lender, owners.get(lender.email), now) for lender in lenders]
    for participant in participants:
        uow.participants.add(participant)
        if participant.lender_id is not None:
            uow.users.make_lender(participant.lender_id)
        else:
            uow.invitations.add(Invitation.for_participant(new_id(), loan, participant))
    return participants


class LoanService:
    def __init__(self, store: Storage, clock: Clock, settings: Settings):
        self.store = store
        self.clock = clock
        self.settings = settings

    def create(self, user_id: str, body: dict[str, Any]) -> LoanView:
        """A PENDING loan. Invitees with a verified account take part at once; every other
        email gets an invitation (and, from the notifier, an email saying so) and takes part
        once its owner has a verified account. One read, one transaction with its first event."""
        application = LoanApplication.from_request(body)
        deadline = funding_deadline(
            body.get("funding_deadline"), self.clock.now(), self.settings.min_funding_window_seconds
        )
        uow = self.store.unit_of_work()
        borrower, owners = uow.borrower_and_owners(user_id, application.emails)
        borrower = existing(borrower)
        require_verified(borrower.email_verified)
        application.check_borrower(borrower.email)
        loan = applications.new_loan(
            application, new_id(), borrower.user_id, borrower.name, self.clock.timestamp(), deadline
        )
        participants = queue_invitations(uow, loan, application.lenders, owners, loan.created_at)
        uow.loans.add(loan, len(participants), [events.created(loan, participants)])
        uow.users.make_borrower(borrower.user_id)
        created = LoanView(loan, participants)
        uow.commit(created)
        return created

    def get(self, user_id: str, loan_id: str) -> LoanView:
        uow = self.store.unit_of_work()
        found = membership(uow, user_id, loan_id)
        loan = visible_loan(found, user_id)
        if loan.borrower_id == user_id:
            loan, participants = self._borrower_view(uow, loan)
        else:
            assert found.participant is not None  # can_view() says so
            participants = [found.participant]
        return LoanView(*as_of(loan, participants, self.clock.timestamp()))

    @staticmethod
    def _borrower_view(uow: UnitOfWork, loan: Loan) -> tuple[Loan, list[Participant]]:
        """The loan and its participants as one snapshot. They are two reads, and an
        acceptance can land between them; it writes both in one transaction, so re-reading
        until they agree gives a view that existed."""
        for _ in range(MAX_SNAPSHOT_READS):
            participants = uow.participants.of_loan(loan.loan_id)
            if funded_total(participants) == loan.total_funded:
                return loan, participants
            loan = uow.loans.get_many({loan.loan_id})[0]
        raise too_busy("loan")

    def of_borrower(self, user_id: str, limit: int, cursor: str | None) -> Page:
        """A page of the borrower's loans, newest first, as they are now (expired ones too)."""
        uow = self.store.unit_of_work()
        existing(uow.users.get(user_id))
        page, now = uow.loans.page_of_borrower(user_id, limit, cursor), self.clock.timestamp()
        return Page([as_of(loan, [], now)[0] for loan in page.items], page.next_cursor)

    def pending_invitations(self, user_id: str, limit: int, cursor: str | None) -> Page:
        """A page of (participation, loan) pairs the caller can still answer: their loan is
        PENDING and before its deadline. Empty until the caller's email is verified (nothing
        is attached to an unverified account: this keeps it so whatever the data)."""
        user, page = self.store.unit_of_work().pending_participations(user_id, limit, cursor)
        if not existing(user).email_verified:
            return Page([], None)
        now = self.clock.timestamp()
        return Page([(p, loan) for p, loan in page.items if not loan.past_deadline(now)], page.next_cursor)
