"""Operations tagged `lender`."""

from typing import Any

from ..bootstrap import Services
from ..domain.ach import AchDetails
from ..domain.funding import Funding
from ..domain.loans import Loan, Participant
from ..http.idempotency import idempotently
from .views import Reply, loan_summary, loan_view, page_view, participant_view


def get_pending_invitations(services: Services, user: str, limit: int = 20, cursor: str | None = None) -> Reply:
    page = services.loans.pending_invitations(user, limit, cursor)
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


def accept_loan(services: Services, user: str, loan_id: str, body: dict[str, Any]) -> Reply:
    def accept() -> Funding:
        return services.funding.accept(user, loan_id, AchDetails.from_request(body))

    def render(funding: Funding) -> Reply:
        return {
            "loan": loan_view(funding.loan, [funding.participant]),
            "participation": participant_view(funding.participant),
            "ach": AchDetails.from_request(body).masked(),
        }, 200

    return idempotently(services, accept, render, user, body)


def decline_loan(services: Services, user: str, loan_id: str, body: dict[str, Any] | None = None) -> Reply:
    def render(answer: tuple[Loan, Participant]) -> Reply:
        loan, declined = answer
        return {"loan": loan_view(loan, [declined]), "participation": participant_view(declined)}, 200

    return idempotently(services, lambda: services.lifecycle.decline(user, loan_id, body), render, user, body)
