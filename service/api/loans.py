"""Operations tagged `loans`."""

from typing import Any

from ..bootstrap import Services
from ..domain.loans import Participant
from ..http.idempotency import idempotently
from ..usecases.loans import LoanView
from .views import Reply, event_view, loan_summary, loan_view, page_view, participants_view


def create_loan(services: Services, user: str, body: dict[str, Any]) -> Reply:
    return idempotently(services, lambda: services.loans.create(user, body), _created, user, body)


def _created(created: LoanView) -> Reply:
    return loan_view(created.loan, created.participants), 201, {"Location": f"/loans/{created.loan.loan_id}"}


def get_loan(services: Services, user: str, loan_id: str) -> Reply:
    found = services.loans.get(user, loan_id)
    return loan_view(found.loan, found.participants), 200


def get_my_loans(services: Services, user: str, limit: int = 20, cursor: str | None = None) -> Reply:
    page = services.loans.of_borrower(user, limit, cursor)
    return page_view([loan_summary(loan) for loan in page.items], page.next_cursor), 200


def cancel_loan(services: Services, user: str, loan_id: str, body: dict[str, Any] | None = None) -> Reply:
    def render(cancelled: LoanView) -> Reply:
        return loan_view(cancelled.loan, cancelled.participants), 200

    return idempotently(services, lambda: services.lifecycle.cancel(user, loan_id, body), render, user, body)


def invite_lenders(services: Services, user: str, loan_id: str, body: dict[str, Any]) -> Reply:
    def render(invited: list[Participant]) -> Reply:
        return {"participants": participants_view(invited)}, 201

    return idempotently(services, lambda: services.lifecycle.invite(user, loan_id, body), render, user, body)


def get_loan_events(services: Services, user: str, loan_id: str, limit: int = 20, cursor: str | None = None) -> Reply:
    page = services.history.events(user, loan_id, limit, cursor)
    return page_view([event_view(sequence, event) for sequence, event in page.items], page.next_cursor), 200
