"""Dashboard figures, computed from a user's loans and participations as they are now."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .lifecycle import LoanStatus, ParticipantStatus
from .loans import Loan, Participant, expected_interest
from .money import ZERO


def _total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


def borrower_figures(loans: list[Loan]) -> dict[str, Any]:
    """Counts by status; sums of what was asked, what is funded now, and the interest due."""
    by_status = {status: [loan for loan in loans if loan.status == status] for status in LoanStatus}
    active, pending = by_status[LoanStatus.ACTIVE], by_status[LoanStatus.PENDING]
    return {
        "loan_count": len(loans),
        "pending_count": len(pending),
        "active_count": len(active),
        "cancelled_count": len(by_status[LoanStatus.CANCELLED]),
        "expired_count": len(by_status[LoanStatus.EXPIRED]),
        "total_requested": _total(loan.amount for loan in loans),
        "total_funded": _total(loan.total_funded for loan in loans),
        "pending_requested": _total(loan.amount for loan in pending),
        "active_principal": _total(loan.amount for loan in active),
        "expected_interest": _total(expected_interest(loan.amount, loan.interest_rate, loan.term) for loan in active),
    }


def lender_figures(participations: list[Participant], answerable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`answerable`: ids of the loans the lender's pending invitations may still be answered on
    (PENDING and before their deadline); invitations to others are no longer pending for them.
    Released acceptances (of loans cancelled or expired) no longer count."""
    accepted = [p for p in participations if p.status == ParticipantStatus.ACCEPTED]
    pending = [p for p in participations if p.status == ParticipantStatus.PENDING and p.loan_id in answerable]
    return {
        "invitation_count": len(participations),
        "pending_invitations": len(pending),
        "accepted_count": len(accepted),
        "declined_count": sum(1 for p in participations if p.status == ParticipantStatus.DECLINED),
        "pending_commitment": _total(p.contribution_amount for p in pending),
        "total_funded": _total(p.funded_amount for p in accepted),
        "expected_interest": _total(expected_interest(p.funded_amount, p.interest_rate, p.term) for p in accepted),
    }
