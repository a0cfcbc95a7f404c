"""A funded loan's schedule, and the repayments its borrower records against it."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..domain import events
from ..domain.closing import as_of
from ..domain.errors import AccessDenied, StoreUnavailable
from ..domain.lifecycle import LOANS, LoanEvent, LoanStatus, ParticipantStatus
from ..domain.loans import Loan
from ..domain.repayments import Progress, Repayment, progress, record, seen_by
from ..domain.schedule import Schedule, build
from . import new_id, too_busy
from .loans import membership
from .ports import Clock, LostRace, Storage, UnitOfWork
from .repositories import Page

# Each lost race means another repayment of this loan committed first.
MAX_ATTEMPTS = 40


@dataclass(frozen=True)
class ScheduleView:
    loan: Loan
    schedule: Schedule
    projected: bool
    rows: list[Progress]


def today(clock: Clock) -> date:
    return date.fromisoformat(clock.timestamp()[:10])


def _fixed_schedule(uow: UnitOfWork, loan_id: str) -> Schedule:
    """The schedule a funded loan was given at activation (written with it, so it is there)."""
    fixed = uow.repayments.schedule(loan_id)
    if fixed is None:
        raise StoreUnavailable("The loan's schedule is not readable right now; please retry.")
    return fixed


class RepaymentService:
    def __init__(self, store: Storage, clock: Clock):
        self.store = store
        self.clock = clock

    def _readable(self, uow: UnitOfWork, user_id: str, loan_id: str) -> tuple[Loan, str | None]:
        """The loan as it is now, if the caller is its borrower or a lender who funded it;
        with the caller's lender id (None for the borrower)."""
        found = membership(uow, user_id, loan_id)
        assert found.loan is not None  # membership() says so
        loan = as_of(found.loan, [], self.clock.timestamp())[0]
        if loan.borrower_id == user_id:
            return loan, None
        if found.participant is None or found.participant.status != ParticipantStatus.ACCEPTED:
            raise AccessDenied("Only the borrower and the lenders who funded this loan may see its repayments.")
        return loan, user_id

    def schedule(self, user_id: str, loan_id: str) -> ScheduleView:
        """The schedule fixed at activation, or for a PENDING loan the one activating it today
        would fix."""
        uow = self.store.unit_of_work()
        loan, _ = self._readable(uow, user_id, loan_id)
        LOANS.next(loan.status, LoanEvent.SCHEDULE)
        day = today(self.clock)
        if loan.status == LoanStatus.PENDING:
            projected = build(loan.repayment_type, loan.amount, loan.interest_rate, loan.months, day)
            return ScheduleView(loan, projected, True, progress(projected, loan.repaid, day))
        fixed = _fixed_schedule(uow, loan_id)
        return ScheduleView(loan, fixed, False, progress(fixed, loan.repaid, day))

    def record(self, user_id: str, loan_id: str, body: dict[str, Any]) -> Repayment:
        """One repayment, applied after every one before it: a write that finds the loan
        repaid further than it read (another repayment committed first) is decided again on
        the loan as DynamoDB found it."""
        uow = self.store.unit_of_work()
        found = membership(uow, user_id, loan_id)
        assert found.loan is not None  # membership() says so
        loan = as_of(found.loan, [], self.clock.timestamp())[0]
        schedule = _fixed_schedule(uow, loan_id) if loan.status == LoanStatus.ACTIVE else None
        repayment_id = new_id()
        for _ in range(MAX_ATTEMPTS):
            recorded = record(loan, schedule, user_id, body.get("amount"), self.clock.timestamp(), repayment_id)
            uow.loans.record_repayment(recorded, events.repaid(recorded))
            uow.repayments.add(recorded.repayment)
            try:
                uow.commit(recorded.repayment)
                return recorded.repayment
            except LostRace as lost:
                loan = lost.loan or uow.loans.get_many({loan_id})[0]
        raise too_busy("loan")

    def page(self, user_id: str, loan_id: str, limit: int, cursor: str | None) -> Page:
        """Repayments in the order applied, as (repayment, the shares the caller sees) pairs."""
        uow = self.store.unit_of_work()
        _, lender = self._readable(uow, user_id, loan_id)
        page = uow.repayments.page(loan_id, limit, cursor)
        return Page([seen_by(repayment, lender) for repayment in page.items], page.next_cursor)
