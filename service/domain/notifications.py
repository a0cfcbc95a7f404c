"""Who hears of each event, and what they read: a user's inbox is made from the loans' events.

- invited (`LOAN_CREATED`, `LENDERS_INVITED`): each invitee with a verified account; the
  others get an email asking them to register;
- a lender accepted or declined: the borrower;
- a loan activated, cancelled or expired: the borrower and every registered participant.
"""

from dataclasses import dataclass

from .events import EventType, LoanEventRecord
from .loans import Loan, Participant


@dataclass(frozen=True)
class Notice:
    user_id: str
    notification_id: str  # unique per user: newest first by its time, once per event
    type: EventType
    loan_id: str
    event_id: str
    message: str
    at: str


def _notice(user_id: str, event: LoanEventRecord, message: str) -> Notice:
    return Notice(user_id, f"{event.at}#{event.event_id}", event.type, event.loan_id, event.event_id, message, event.at)


def _money(value: object) -> str:
    return f"{value:,.2f}"


def invitees(event: LoanEventRecord) -> list[dict[str, object]]:
    """The lenders an invitation event names."""
    if event.type not in (EventType.LOAN_CREATED, EventType.LENDERS_INVITED):
        return []
    return list(event.data.get("lenders", []))


def notices(event: LoanEventRecord, loan: Loan, participants: list[Participant]) -> list[Notice]:
    title = f"{loan.borrower_name}'s loan '{loan.purpose}'"
    if event.type in (EventType.LOAN_CREATED, EventType.LENDERS_INVITED):
        return [
            _notice(
                str(lender["lender_id"]),
                event,
                f"You were invited to fund {title} with up to {_money(lender['contribution_amount'])}.",
            )
            for lender in invitees(event)
            if lender.get("lender_id")
        ]
    if event.type == EventType.INVITATION_ACCEPTED:
        message = (
            f"{event.data['email']} accepted your loan '{loan.purpose}' with {_money(event.data['funded_amount'])}."
        )
        return [_notice(loan.borrower_id, event, message)]
    if event.type == EventType.INVITATION_DECLINED:
        return [_notice(loan.borrower_id, event, f"{event.data['email']} declined your loan '{loan.purpose}'.")]
    says = {
        EventType.LOAN_ACTIVATED: f"{title} is fully funded and active.",
        EventType.LOAN_CANCELLED: f"{title} was cancelled by its borrower.",
        EventType.LOAN_EXPIRED: f"{title} expired before it was fully funded.",
    }[event.type]
    lenders = sorted({p.lender_id for p in participants if p.lender_id})
    return [_notice(user_id, event, says) for user_id in [loan.borrower_id, *lenders]]
