"""Accepting an invitation: funding the loan with the lender's contribution."""

import random
import time

from ..domain import events
from ..domain.ach import AchDetails
from ..domain.funding import Funding, accept
from . import too_busy
from .loans import membership
from .ports import Clock, LostRace, Storage, Vault

# Every lost race means another acceptance succeeded, and a loan takes at most 40, so this
# bound is only reached under pathological contention (then: DATABASE_ERROR, safe to retry).
MAX_ACCEPT_ATTEMPTS = 40


class FundingService:
    def __init__(self, store: Storage, vault: Vault, clock: Clock):
        self.store = store
        self.vault = vault
        self.clock = clock

    def accept(self, user_id: str, loan_id: str, ach: AchDetails) -> Funding:
        """Fund the loan with the caller's contribution (or what remains of the loan).

        One read, then one transaction per attempt: the loan's funding, the participation and
        the bank details (and, from the acceptance that activates the loan, its schedule). A
        write that leaves room in the loan needs only that room, so concurrent acceptances
        rarely collide; one that lost a race carries back the loan as
        DynamoDB found it, and the decision is made again on that (a re-read only when it
        could not say). The answer's loan includes this acceptance; acceptances by others
        that committed at the same moment may not be in it yet. The bank numbers are sealed
        once, and only when there is something to write.
        """
        uow = self.store.unit_of_work()
        found = membership(uow, user_id, loan_id, verified=True)
        loan, participant = found.loan, found.participant
        assert loan is not None  # membership() says so
        sealed_numbers = None
        for attempt in range(MAX_ACCEPT_ATTEMPTS):
            funding = accept(loan, participant, self.clock.timestamp())
            sealed_numbers = sealed_numbers or self.vault.seal(ach, user_id, loan_id)
            uow.loans.record_funding(funding, events.accepted(loan, funding))
            uow.participants.record_acceptance(funding.participant)
            uow.ach.add(funding.participant, ach, sealed_numbers)
            if funding.schedule is not None:
                uow.repayments.add_schedule(loan_id, funding.schedule)
            try:
                uow.commit(funding)
                return funding
            except LostRace as lost:
                if lost.loan is not None:
                    loan = lost.loan
                    continue
                # A conflict DynamoDB did not explain: jitter, then read again.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
                found = membership(uow, user_id, loan_id, verified=True)
                assert found.loan is not None
                loan, participant = found.loan, found.participant
        raise too_busy("loan")
