"""Repayments: the borrower's statements of what they paid, and what each one settles.

A loan's repayments are applied in order to its schedule: the oldest unpaid instalment first,
its interest before its principal. Everything follows from the running total repaid, so no
instalment stores what was paid into it: an instalment has been paid what of the running
total reaches it, and a repayment applied the difference the running total made.
"""

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .errors import AccessDenied, InvalidAmount, InvalidInput
from .lifecycle import LOANS, LoanEvent
from .loans import Loan
from .money import ZERO, amount_in_range
from .schedule import Instalment, Schedule
from .shares import split


class InstalmentStatus(StrEnum):
    DUE = "DUE"
    PARTIAL = "PARTIAL"
    PAID = "PAID"
    OVERDUE = "OVERDUE"  # past its due date and not fully paid


@dataclass(frozen=True)
class Progress:
    """One instalment as a running total `repaid` leaves it, on `today`."""

    instalment: Instalment
    paid: Decimal
    interest_paid: Decimal
    status: InstalmentStatus

    @property
    def unpaid(self) -> Decimal:
        return self.instalment.amount - self.paid


def progress(schedule: Schedule, repaid: Decimal, today: date) -> list[Progress]:
    left, rows = repaid, []
    for instalment in schedule.instalments:
        paid = min(left, instalment.amount)
        left -= paid
        if paid == instalment.amount:
            status = InstalmentStatus.PAID
        elif instalment.due_date < today.isoformat():
            status = InstalmentStatus.OVERDUE
        else:
            status = InstalmentStatus.PARTIAL if paid > ZERO else InstalmentStatus.DUE
        rows.append(Progress(instalment, paid, min(paid, instalment.interest), status))
    return rows


def interest_paid(schedule: Schedule, repaid: Decimal) -> Decimal:
    """How much of a running total `repaid` went to interest (each instalment's comes first)."""
    return sum((row.interest_paid for row in progress(schedule, repaid, date.min)), ZERO)


@dataclass(frozen=True)
class Repayment:
    repayment_id: str
    loan_id: str
    number: int  # its place among the loan's repayments, from 1
    amount: Decimal
    paid_at: str
    interest: Decimal
    principal: Decimal
    shares: dict[str, Decimal] = field(default_factory=dict)  # by lender id

    def __post_init__(self) -> None:
        amount_in_range(self.amount, "amount")
        if (
            self.number < 1
            or min(self.interest, self.principal) < ZERO
            or self.interest + self.principal != self.amount
            or sum(self.shares.values(), ZERO) != self.amount
        ):
            raise InvalidAmount(
                "A repayment is applied to interest and principal, and shared among lenders, exactly.",
                {"amount": self.amount},
            )


@dataclass(frozen=True)
class Recorded:
    """What one repayment does: the loan after it, and the repayment as stored."""

    before: Loan
    loan: Loan
    repayment: Repayment

    @property
    def completes(self) -> bool:
        return self.loan.status != self.before.status


def seen_by(repayment: Repayment, lender_id: str | None) -> tuple[Repayment, dict[str, Decimal]]:
    """A repayment and the shares a reader sees: all for the borrower (`lender_id` None), a
    lender only their own."""
    shares = repayment.shares if lender_id is None else {lender_id: repayment.shares.get(lender_id, ZERO)}
    return repayment, dict(sorted(shares.items()))


def record(
    loan: Loan, schedule: Schedule | None, user_id: str, amount: object, now: str, repayment_id: str
) -> Recorded:
    """The borrower's repayment of `amount` on an ACTIVE loan, or why it cannot be recorded."""
    if loan.borrower_id != user_id:
        raise AccessDenied("Only the loan's borrower records its repayments.")
    LOANS.next(loan.status, LoanEvent.REPAY)
    if schedule is None or loan.total_due != schedule.amount:
        raise InvalidInput("An ACTIVE loan owes the schedule fixed at its activation.")
    paid = amount_in_range(amount, "amount")
    if paid > loan.outstanding:
        raise InvalidAmount(
            f"This repayment is more than the {loan.outstanding} outstanding.",
            {"field": "amount", "amount": paid, "outstanding": loan.outstanding},
        )
    repaid = loan.repaid + paid
    interest = interest_paid(schedule, repaid) - interest_paid(schedule, loan.repaid)
    completes = repaid == loan.total_due
    after = replace(
        loan,
        repaid=repaid,
        repayment_count=loan.repayment_count + 1,
        status=LOANS.next(loan.status, LoanEvent.COMPLETE) if completes else loan.status,
        closed_at=now if completes else None,
    )
    shares = split(loan.repaid, paid, loan.funded_by)
    number = after.repayment_count
    repayment = Repayment(repayment_id, loan.loan_id, number, paid, now, interest, paid - interest, shares)
    return Recorded(loan, after, repayment)
