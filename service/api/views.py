"""Domain objects as the contract's JSON bodies, and what a handler returns."""

from decimal import Decimal
from typing import Any

from connexion.lifecycle import ConnexionResponse

from ..domain.events import LoanEventRecord
from ..domain.loans import Loan, Participant
from ..domain.money import ZERO
from ..domain.notifications import Notice
from ..domain.profiles import LenderMatch
from ..domain.repayments import Repayment
from ..domain.users import User
from ..usecases.repayments import ScheduleView

# A body (or None), the status, and maybe headers, which Connexion turns into the response;
# or the response itself (a replayed one).
Reply = tuple[Any, int] | tuple[Any, int, dict[str, str]] | ConnexionResponse


def user_view(user: User) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "name": user.name,
        "email": user.email,
        "is_borrower": user.is_borrower,
        "is_lender": user.is_lender,
        "email_verified": user.email_verified,
        "searchable": user.searchable,
        "created_at": user.created_at,
    }


def lender_view(lender: LenderMatch) -> dict[str, Any]:
    return {"user_id": lender.user_id, "name": lender.name, "email": lender.email}


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
        "funding_deadline": loan.funding_deadline,
        "closed_at": loan.closed_at,
        "repayment_type": loan.repayment_type,
        "total_due": loan.total_due,
        "repaid": loan.repaid,
        "outstanding": loan.outstanding,
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
        "decline_reason": participant.decline_reason,
    }


def participants_view(participants: list[Participant]) -> list[dict[str, Any]]:
    return [participant_view(p) for p in sorted(participants, key=lambda p: p.email)]


def loan_view(loan: Loan, participants: list[Participant]) -> dict[str, Any]:
    return {**loan_summary(loan), "participants": participants_view(participants)}


def event_view(sequence: int, event: LoanEventRecord) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "sequence": sequence,
        "type": event.type,
        "at": event.at,
        "actor_id": event.actor_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "data": event.data,
    }


def notification_view(notice: Notice, read: bool) -> dict[str, Any]:
    return {
        "notification_id": notice.notification_id,
        "type": notice.type,
        "loan_id": notice.loan_id,
        "event_id": notice.event_id,
        "message": notice.message,
        "at": notice.at,
        "read": read,
    }


def page_view(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}


def schedule_view(view: ScheduleView) -> dict[str, Any]:
    schedule = view.schedule
    paid = sum((row.paid for row in view.rows), ZERO)
    return {
        "loan_id": view.loan.loan_id,
        "repayment_type": schedule.repayment_type,
        "projected": view.projected,
        "instalments": [
            {
                "number": row.instalment.number,
                "due_date": row.instalment.due_date,
                "principal": row.instalment.principal,
                "interest": row.instalment.interest,
                "amount": row.instalment.amount,
                "paid": row.paid,
                "status": row.status,
            }
            for row in view.rows
        ],
        "totals": {
            "principal": schedule.principal,
            "interest": schedule.interest,
            "amount": schedule.amount,
            "paid": paid,
            "outstanding": schedule.amount - paid,
        },
    }


def repayment_view(repayment: Repayment, shares: dict[str, Decimal]) -> dict[str, Any]:
    return {
        "repayment_id": repayment.repayment_id,
        "number": repayment.number,
        "amount": repayment.amount,
        "paid_at": repayment.paid_at,
        "applied": {"interest": repayment.interest, "principal": repayment.principal},
        "shares": [{"lender_id": lender, "amount": amount} for lender, amount in shares.items()],
    }
