"""The caller's dashboard, computed from storage on every request."""

from ..domain.dashboard import borrower_figures, lender_figures
from ..domain.loans import PENDING
from ..store import Store
from .accounts import current_user


def dashboard(store: Store, user_id: str) -> dict:
    user = current_user(store, user_id)
    return {
        "borrower": borrower_figures(store.all_loans_of_borrower(user_id)) if user.is_borrower else None,
        "lender": _lender(store, user_id) if user.is_lender else None,
    }


def _lender(store: Store, user_id: str) -> dict:
    participations = store.all_participations(user_id)
    pending = {p.loan_id for p in participations if p.status == PENDING}
    funded = {loan.loan_id for loan in store.loans_by_id(pending) if loan.status != PENDING}
    return lender_figures(participations, funded)
