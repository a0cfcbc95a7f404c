"""Dashboard figures, computed from a user's loans, participations and schedules as they are now.

Every figure about what is owed comes from the schedules (the fixed one of a funded loan, the
projected one of a PENDING loan), so a dashboard and `GET /loans/{loan_id}/schedule` agree.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from .lifecycle import LoanStatus, ParticipantStatus
from .loans import FUNDED, Loan, Participant
from .money import ZERO
from .repayments import InstalmentStatus, Progress, progress
from .schedule import Schedule, build
from .shares import running_totals


def _total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


def _next(dues: Iterable[tuple[str, Decimal]]) -> dict[str, Any] | None:
    """The earliest date among (date, amount) pairs and the amounts due that day, or None."""
    dues = [(day, amount) for day, amount in dues if amount > ZERO]
    if not dues:
        return None
    first = min(day for day, _ in dues)
    return {"date": first, "amount": _total(amount for day, amount in dues if day == first)}


def _first_unpaid(rows: list[Progress]) -> tuple[str, Decimal, Decimal] | None:
    """The oldest unpaid instalment's due date, what is unpaid of it, and the running total
    that pays it off."""
    reached = ZERO
    for row in rows:
        reached += row.instalment.amount
        if row.status != InstalmentStatus.PAID:
            return row.instalment.due_date, row.unpaid, reached
    return None


def borrower_figures(loans: list[Loan], schedules: dict[str, Schedule], today: date) -> dict[str, Any]:
    """Counts by status; sums of what was asked, funded and is owed; the next instalment due
    and the overdue ones (`schedules`: those of the ACTIVE loans)."""
    by_status = {status: [loan for loan in loans if loan.status == status] for status in LoanStatus}
    active, pending = by_status[LoanStatus.ACTIVE], by_status[LoanStatus.PENDING]
    owing = [(loan, schedules[loan.loan_id]) for loan in active]
    rows = [progress(schedule, loan.repaid, today) for loan, schedule in owing]
    unpaid = [_first_unpaid(loan_rows) for loan_rows in rows]
    return {
        "loan_count": len(loans),
        "pending_count": len(pending),
        "active_count": len(active),
        "cancelled_count": len(by_status[LoanStatus.CANCELLED]),
        "expired_count": len(by_status[LoanStatus.EXPIRED]),
        "completed_count": len(by_status[LoanStatus.COMPLETED]),
        "total_requested": _total(loan.amount for loan in loans),
        "total_funded": _total(loan.total_funded for loan in loans),
        "pending_requested": _total(loan.amount for loan in pending),
        "active_principal": _total(loan.amount for loan in active),
        "expected_interest": _total(schedule.interest for _, schedule in owing),
        "outstanding": _total(loan.outstanding for loan in active),
        "next_due": _next((due[0], due[1]) for due in unpaid if due),
        "overdue_count": sum(row.status == InstalmentStatus.OVERDUE for loan_rows in rows for row in loan_rows),
    }


def _lender_interest(p: Participant, loan: Loan, schedules: dict[str, Schedule], today: date) -> Decimal:
    """The lender's share of the loan's scheduled interest: of the fixed schedule once funded,
    else of the schedule their funded amount would have if the loan were activated today."""
    if loan.status in FUNDED:
        return running_totals(schedules[loan.loan_id].interest, loan.funded_by)[str(p.lender_id)]
    return build(loan.repayment_type, p.funded_amount, loan.interest_rate, loan.months, today).interest


def lender_figures(
    participations: list[Participant],
    loans: dict[str, Loan],
    schedules: dict[str, Schedule],
    today: date,
    answerable: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """`answerable`: ids of the loans the lender's pending invitations may still be answered on
    (PENDING and before their deadline); invitations to others are no longer pending for them.
    Released acceptances (of loans cancelled or expired) no longer count. `loans`: at least
    those of the accepted participations; `schedules`: those of the funded ones."""
    accepted = [p for p in participations if p.status == ParticipantStatus.ACCEPTED]
    pending = [p for p in participations if p.status == ParticipantStatus.PENDING and p.loan_id in answerable]
    funded = [(p, loans[p.loan_id]) for p in accepted if loans[p.loan_id].status in FUNDED]
    received, owed, expected = ZERO, ZERO, []
    for p, loan in funded:
        mine = str(p.lender_id)
        got = running_totals(loan.repaid, loan.funded_by)[mine]
        received += got
        if loan.status == LoanStatus.ACTIVE:
            owed += running_totals(loan.repaid + loan.outstanding, loan.funded_by)[mine] - got
            unpaid = _first_unpaid(progress(schedules[loan.loan_id], loan.repaid, today))
            if unpaid:
                expected.append((unpaid[0], running_totals(unpaid[2], loan.funded_by)[mine] - got))
    return {
        "invitation_count": len(participations),
        "pending_invitations": len(pending),
        "accepted_count": len(accepted),
        "declined_count": sum(1 for p in participations if p.status == ParticipantStatus.DECLINED),
        "pending_commitment": _total(p.contribution_amount for p in pending),
        "total_funded": _total(p.funded_amount for p in accepted),
        "expected_interest": _total(_lender_interest(p, loans[p.loan_id], schedules, today) for p in accepted),
        "received": received,
        "outstanding_to_me": owed,
        "next_expected": _next(expected),
    }
