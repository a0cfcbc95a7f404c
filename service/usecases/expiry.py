"""Expiry: loans whose funding deadline passed unfunded are written EXPIRED, with their event
and their participations closed or released, by a scheduled job. Reads show a loan expired
the moment its deadline passes (`domain.closing.as_of`); this makes storage agree."""

from ..domain import events
from ..domain.closing import expire
from .lifecycle import queue_closing
from .ports import Clock, LostRace, Storage

BATCH = 25
MAX_ATTEMPTS = 5


class ExpiryService:
    def __init__(self, store: Storage, clock: Clock):
        self.store = store
        self.clock = clock

    def expire_due(self, batches: int = 40) -> int:
        """Expire the loans now past their deadline, a batch at a time; how many were expired."""
        expired = 0
        for _ in range(batches):
            due = self.store.unit_of_work().loans.past_deadline(self.clock.timestamp(), BATCH)
            done = sum(self._expire(loan_id) for loan_id in due)
            expired += done
            if len(due) < BATCH or not done:
                break
        return expired

    def _expire(self, loan_id: str) -> bool:
        """Expire one loan, if it is still pending and past its deadline (a race with the last
        acceptance, or with a cancel, may have ended it first)."""
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            [loan] = uow.loans.get_many({loan_id})
            now = self.clock.timestamp()
            if not loan.past_deadline(now):
                return False
            participants = uow.participants.of_loan(loan_id)
            closing = expire(loan, participants)
            queue_closing(uow, closing, len(participants), now, events.closed(closing, None))
            try:
                uow.commit()
                return True
            except LostRace:
                continue
        return False
