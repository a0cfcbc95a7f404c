"""Operations tagged `loans`."""

from ..context import mailer, settings, store
from ..usecases import lending
from .views import loan_summary, loan_view, page_view


def create_loan(user: str, body: dict):
    created = lending.create_loan(store(), mailer(), settings(), user, body)
    return loan_view(created.loan, created.participants), 201, {"Location": f"/loans/{created.loan.loan_id}"}


def get_loan(user: str, loan_id: str):
    found = lending.get_loan(store(), user, loan_id)
    return loan_view(found.loan, found.participants), 200


def get_my_loans(user: str, limit: int = 20, cursor: str | None = None):
    page = lending.my_loans(store(), user, limit, cursor)
    return page_view([loan_summary(loan) for loan in page.items], page.next_cursor), 200
