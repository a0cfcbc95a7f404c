"""Dashboard figures, computed from a user's loans and participations."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .lifecycle import LoanStatus, ParticipantStatus
from .loans import Loan, Participant, expected_interest
from .money import ZERO


def _total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


def borrower_figures(loans: list[Loan]) -> dict[str, Any]:
    active = [loan for loan in loans if loan.status == LoanStatus.ACTIVE]
    pending = [loan for loan in loans if loan.status == LoanStatus.PENDING]
    return {
        "loan_count": len(loans),
        "pending_count": len(pending),
        "active_count": len(active),
        "total_requested": _total(loan.amount for loan in loans),
        "total_funded": _total(loan.total_funded for loan in loans),
        "pending_requested": _total(loan.amount for loan in pending),
        "active_principal": _total(loan.amount for loan in active),
        "expected_interest": _total(expected_interest(loan.amount, loan.interest_rate, loan.term) for loan in active),
    }


def lender_figures(participations: list[Participant], funded_loans: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`funded_loans`: ids of loans others have fully funded, whose invitations can no longer
    be accepted and so are not pending for this lender."""
    accepted = [p for p in participations if p.status == ParticipantStatus.ACCEPTED]
    pending = [p for p in participations if p.status == ParticipantStatus.PENDING and p.loan_id not in funded_loans]
    return {
        "invitation_count": len(participations),
        "pending_invitations": len(pending),
        "accepted_count": len(accepted),
        "pending_commitment": _total(p.contribution_amount for p in pending),
        "total_funded": _total(p.funded_amount for p in accepted),
        "expected_interest": _total(expected_interest(p.funded_amount, p.interest_rate, p.term) for p in accepted),
    }
