"""The caller's dashboard, computed from storage on every request."""

from typing import Any

from ..domain.dashboard import borrower_figures, lender_figures
from ..domain.lifecycle import LoanStatus, ParticipantStatus
from . import existing
from .ports import Storage, UnitOfWork


class DashboardService:
    def __init__(self, store: Storage):
        self.store = store

    def dashboard(self, user_id: str) -> dict[str, Any]:
        uow = self.store.unit_of_work()
        user = existing(uow.users.get(user_id))
        return {
            "borrower": borrower_figures(uow.loans.all_of_borrower(user_id)) if user.is_borrower else None,
            "lender": self._lender(uow, user_id) if user.is_lender else None,
        }

    @staticmethod
    def _lender(uow: UnitOfWork, user_id: str) -> dict[str, Any]:
        participations = uow.participants.all_of_lender(user_id)
        pending = {p.loan_id for p in participations if p.status == ParticipantStatus.PENDING}
        funded = frozenset(loan.loan_id for loan in uow.loans.get_many(pending) if loan.status != LoanStatus.PENDING)
        return lender_figures(participations, funded)
