"""The caller's dashboard, computed from storage on every request."""

from typing import Any

from ..domain.closing import as_of
from ..domain.dashboard import borrower_figures, lender_figures
from ..domain.lifecycle import LoanStatus, ParticipantStatus
from . import existing
from .ports import Clock, Storage, UnitOfWork


class DashboardService:
    def __init__(self, store: Storage, clock: Clock):
        self.store = store
        self.clock = clock

    def dashboard(self, user_id: str) -> dict[str, Any]:
        uow = self.store.unit_of_work()
        user = existing(uow.users.get(user_id))
        now = self.clock.timestamp()
        borrowed = [as_of(loan, [], now)[0] for loan in uow.loans.all_of_borrower(user_id)] if user.is_borrower else []
        return {
            "borrower": borrower_figures(borrowed) if user.is_borrower else None,
            "lender": self._lender(uow, user_id, now) if user.is_lender else None,
        }

    @staticmethod
    def _lender(uow: UnitOfWork, user_id: str, now: str) -> dict[str, Any]:
        """The lender's participations as they are now: one read of the loans those still open
        belong to, to see which were funded by others or are past their deadline (expired,
        releasing what was accepted, even before the expiry job has written it)."""
        participations = uow.participants.all_of_lender(user_id)
        open_ = {
            p.loan_id for p in participations if p.status in (ParticipantStatus.PENDING, ParticipantStatus.ACCEPTED)
        }
        loans = {loan.loan_id: loan for loan in uow.loans.get_many(open_)}
        current = [as_of(loans[p.loan_id], [p], now)[1][0] if p.loan_id in loans else p for p in participations]
        answerable = frozenset(i for i, loan in loans.items() if as_of(loan, [], now)[0].status == LoanStatus.PENDING)
        return lender_figures(current, answerable)
