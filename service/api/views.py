"""Domain objects as the contract's JSON bodies, and what a handler returns."""

from typing import Any

from ..domain.loans import Loan, Participant
from ..domain.users import User

# A body (or None), the status, and maybe headers: what Connexion turns into the response.
Reply = tuple[Any, int] | tuple[Any, int, dict[str, str]]


def user_view(user: User) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "name": user.name,
        "email": user.email,
        "is_borrower": user.is_borrower,
        "is_lender": user.is_lender,
        "email_verified": user.email_verified,
        "created_at": user.created_at,
    }


def loan_summary(loan: Loan) -> dict[str, Any]:
    return {
        "loan_id": loan.loan_id,
        "borrower_id": loan.borrower_id,
        "borrower_name": loan.borrower_name,
        "amount": loan.amount,
        "interest_rate": loan.interest_rate,
        "term": loan.term,
        "purpose": loan.purpose,
        "description": loan.description,
        "status": loan.status,
        "total_funded": loan.total_funded,
        "remaining_amount": loan.remaining,
        "funding_progress": loan.funding_progress,
        "created_at": loan.created_at,
        "activated_at": loan.activated_at,
    }


def participant_view(participant: Participant) -> dict[str, Any]:
    return {
        "lender_id": participant.lender_id,
        "email": participant.email,
        "registered": participant.registered,
        "contribution_amount": participant.contribution_amount,
        "funded_amount": participant.funded_amount,
        "status": participant.status,
        "invited_at": participant.invited_at,
        "responded_at": participant.responded_at,
    }


def loan_view(loan: Loan, participants: list[Participant]) -> dict[str, Any]:
    return {
        **loan_summary(loan),
        "participants": [participant_view(p) for p in sorted(participants, key=lambda p: p.email)],
    }


def page_view(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}
