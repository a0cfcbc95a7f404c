"""A loan's event history as one user may read it."""

from ..domain.events import seen_by
from .loans import membership, visible_loan
from .ports import Storage
from .repositories import Page


class HistoryService:
    def __init__(self, store: Storage):
        self.store = store

    def events(self, user_id: str, loan_id: str, limit: int, cursor: str | None) -> Page:
        """A page of (sequence, event) pairs, oldest first: all of them for the borrower; for an
        invited lender, the loan-level events and their own (see `domain.events.seen_by`), so
        their page may hold fewer than `limit`."""
        uow = self.store.unit_of_work()
        found = membership(uow, user_id, loan_id)
        loan = visible_loan(found, user_id)
        page = uow.events.page(loan_id, limit, cursor)
        if loan.borrower_id == user_id:
            return page
        email = found.participant.email if found.participant else ""
        visible = [
            (sequence, seen) for sequence, event in page.items if (seen := seen_by(event, user_id, email)) is not None
        ]
        return Page(visible, page.next_cursor)
