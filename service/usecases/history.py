"""A loan's event history as one user may read it."""

from ..domain.errors import AccessDenied
from ..domain.events import seen_by
from ..domain.loans import can_view
from .loans import membership
from .ports import Page, Storage


class HistoryService:
    def __init__(self, store: Storage):
        self.store = store

    def events(self, user_id: str, loan_id: str, limit: int, cursor: str | None) -> Page:
        """A page of (sequence, event) pairs, oldest first: all of them for the borrower; for an
        invited lender, the loan-level events and their own (see `domain.events.seen_by`), so
        their page may hold fewer than `limit`."""
        uow = self.store.unit_of_work()
        found = membership(uow, user_id, loan_id)
        loan = found.loan
        assert loan is not None  # membership() says so
        if not can_view(loan, user_id, found.participant):
            raise AccessDenied("You do not have access to this loan.")
        page = uow.events.page(loan_id, limit, cursor)
        if loan.borrower_id == user_id:
            return page
        email = found.participant.email if found.participant else ""
        visible = [
            (sequence, seen) for sequence, event in page.items if (seen := seen_by(event, user_id, email)) is not None
        ]
        return Page(visible, page.next_cursor)
