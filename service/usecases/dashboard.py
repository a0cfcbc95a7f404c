"""The caller's dashboard, computed from storage on every request."""

from ..domain.dashboard import borrower_figures, lender_figures
from ..store import Store
from .accounts import current_user


def dashboard(store: Store, user_id: str) -> dict:
    user = current_user(store, user_id)
    return {
        "borrower": borrower_figures(store.all_loans_of_borrower(user_id)) if user.is_borrower else None,
        "lender": lender_figures(store.all_participations(user_id)) if user.is_lender else None,
    }
