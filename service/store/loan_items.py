"""A loan as the loans table stores it, and back."""

from dataclasses import asdict
from typing import Any

from ..domain.events import LoanEventRecord
from ..domain.loans import Loan
from ..usecases.ports import LostRace

_FIELDS = set(Loan.__dataclass_fields__)


def loan_item(loan: Loan, events: list[LoanEventRecord], lenders: int) -> dict[str, Any]:
    """`remaining` is stored beside `total_funded` so DynamoDB's conditions can keep
    `0 <= total_funded <= amount` themselves (a condition cannot subtract); `lender_count`
    bounds the lenders a loan may invite; `event_ids` is its history, in order."""
    item = {
        **asdict(loan),
        "remaining": loan.remaining,
        "lender_count": lenders,
        "event_ids": [event.event_id for event in events],
    }
    return {key: value for key, value in item.items() if value is not None}


def to_loan(item: dict[str, Any]) -> Loan:
    values = {key: value for key, value in item.items() if key in _FIELDS}
    values["repayment_count"] = int(values.get("repayment_count", 0))
    return Loan(**values)


def loan_key(loan_id: str) -> dict[str, str]:
    return {"loan_id": loan_id}


def lost_to(found: dict[str, Any]) -> LostRace:
    """A loan write refused: the loan as DynamoDB found it, to decide again on."""
    return LostRace(loan=to_loan(found) if found else None)
