"""The loan's life before it is funded: a lender declines, the borrower cancels or invites
more lenders. Each change and its event commit together; a change that lost a race (the loan
or a participation moved on since it was read) is decided again on a fresh read."""

from typing import Any

from ..domain import events
from ..domain.applications import MAX_LENDERS, more_lenders
from ..domain.closing import Closing, cancel
from ..domain.events import LoanEventRecord
from ..domain.funding import decline
from ..domain.loans import Loan, Participant
from ..domain.users import User, trim
from . import existing, too_busy
from .loans import LoanView, membership, own_loan, queue_invitations
from .ports import Clock, LostRace, Storage, UnitOfWork

MAX_ATTEMPTS = 10
MAX_REASON_LENGTH = 500


def _reason(body: dict[str, Any] | None) -> str | None:
    reason = (body or {}).get("reason")
    return None if reason is None else trim(reason, "reason", MAX_REASON_LENGTH) or None


def queue_closing(uow: UnitOfWork, closing: Closing, invited: int, now: str, event: LoanEventRecord) -> None:
    """A cancel or an expiry: the loan, each participation it closes or releases, the bank
    details of the released ones deleted, and its event, for one transaction."""
    uow.loans.record_closing(closing, invited, now, [event])
    for before, after in closing.changes:
        uow.participants.record_closing(before, after)
    for released in closing.released_participants:
        uow.ach.delete(released)


class LifecycleService:
    def __init__(self, store: Storage, clock: Clock):
        self.store = store
        self.clock = clock

    def decline(self, user_id: str, loan_id: str, body: dict[str, Any] | None) -> tuple[Loan, Participant]:
        reason = _reason(body)
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            found = membership(uow, user_id, loan_id, verified=True)
            loan, now = found.loan, self.clock.timestamp()
            assert loan is not None  # membership() says so
            declined = decline(loan, found.participant, now, reason)
            uow.participants.record_decline(declined)
            uow.loans.record_decline(loan, now, [events.declined(loan, declined)])
            try:
                uow.commit((loan, declined))
                return loan, declined
            except LostRace:
                continue
        raise too_busy("loan")

    def cancel(self, user_id: str, loan_id: str, body: dict[str, Any] | None) -> LoanView:
        reason = _reason(body)
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            loan, participants, _ = self._borrowers_loan(uow, user_id, loan_id)
            now = self.clock.timestamp()
            closing = cancel(loan, participants, user_id, now)
            queue_closing(uow, closing, len(participants), now, events.closed(closing, user_id, reason))
            changed = {after.email: after for _, after in closing.changes}
            cancelled = LoanView(closing.loan, [changed.get(p.email, p) for p in participants])
            try:
                uow.commit(cancelled)
                return cancelled
            except LostRace:
                continue
        raise too_busy("loan")

    def invite(self, user_id: str, loan_id: str, body: dict[str, Any]) -> list[Participant]:
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            loan, participants, borrower = self._borrowers_loan(uow, user_id, loan_id, verified=True)
            now = self.clock.timestamp()
            new = more_lenders(loan, participants, body.get("lenders"), borrower.email, now)
            _, owners = uow.borrower_and_owners(user_id, [lender.email for lender in new])
            invited = queue_invitations(uow, loan, new, owners, now)
            uow.loans.record_invitations(loan, len(invited), MAX_LENDERS, now, [events.invited(loan, invited, now)])
            try:
                uow.commit(invited)
                return invited
            except LostRace:
                continue  # lenders invited meanwhile: decide again with them counted
        raise too_busy("loan")

    @staticmethod
    def _borrowers_loan(
        uow: UnitOfWork, user_id: str, loan_id: str, verified: bool = False
    ) -> tuple[Loan, list[Participant], User]:
        """The caller's own loan and all its participants; a lender of it may not, anyone else
        may not even see it."""
        found = membership(uow, user_id, loan_id, verified)
        return own_loan(found, user_id), uow.participants.of_loan(loan_id), existing(found.user)
