"""Operations tagged `loans`."""

from typing import Any

from ..bootstrap import Services
from .views import Reply, loan_summary, loan_view, page_view


def create_loan(services: Services, user: str, body: dict[str, Any]) -> Reply:
    created = services.loans.create(user, body)
    return loan_view(created.loan, created.participants), 201, {"Location": f"/loans/{created.loan.loan_id}"}


def get_loan(services: Services, user: str, loan_id: str) -> Reply:
    found = services.loans.get(user, loan_id)
    return loan_view(found.loan, found.participants), 200


def get_my_loans(services: Services, user: str, limit: int = 20, cursor: str | None = None) -> Reply:
    page = services.loans.of_borrower(user, limit, cursor)
    return page_view([loan_summary(loan) for loan in page.items], page.next_cursor), 200
