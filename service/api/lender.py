"""Operations tagged `lender`."""

from ..context import store, vault
from ..domain.ach import AchDetails
from ..usecases import lending
from .views import loan_summary, loan_view, page_view, participant_view


def get_pending_invitations(user: str, limit: int = 20, cursor: str | None = None):
    page = lending.pending_invitations(store(), user, limit, cursor)
    items = [
        {
            "loan_id": participation.loan_id,
            "contribution_amount": participation.contribution_amount,
            "status": participation.status,
            "invited_at": participation.invited_at,
            "loan": loan_summary(loan),
        }
        for participation, loan in page.items
    ]
    return page_view(items, page.next_cursor), 200


def accept_loan(user: str, loan_id: str, body: dict):
    ach = AchDetails.from_request(body)
    funding = lending.accept_loan(store(), vault(), user, loan_id, ach)
    return {
        "loan": loan_view(funding.loan, [funding.participant]),
        "participation": participant_view(funding.participant),
        "ach": ach.masked(),
    }, 200
