"""Loans, in the loans table (with `borrower-loans-index` for a borrower's loans)."""

from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.funding import Funding
from ..domain.lifecycle import LoanStatus
from ..domain.loans import Loan
from ..usecases.ports import LostRace, Page
from .aws import Database, Write, store_errors
from .cursors import CursorCodec

_FIELDS = set(Loan.__dataclass_fields__)


def loan_item(loan: Loan) -> dict[str, Any]:
    """`remaining` is stored beside `total_funded` so DynamoDB's conditions can keep
    `0 <= total_funded <= amount` themselves (a condition cannot subtract)."""
    item = {**asdict(loan), "remaining": loan.remaining}
    return {key: value for key, value in item.items() if value is not None}


def to_loan(item: dict[str, Any]) -> Loan:
    return Loan(**{key: value for key, value in item.items() if key in _FIELDS})


def loan_key(loan_id: str) -> dict[str, str]:
    return {"loan_id": loan_id}


def _lost_to(found: dict[str, Any]) -> LostRace:
    """A funding refused: the loan as DynamoDB found it, to decide again on."""
    return LostRace(loan=to_loan(found) if found else None)


class LoanRecords:
    def __init__(self, db: Database, writes: list[Write], cursors: CursorCodec):
        self._db = db
        self._writes = writes
        self._cursors = cursors
        self._name = db.names.loans

    @store_errors
    def get_many(self, loan_ids: set[str]) -> list[Loan]:
        keys = [loan_key(loan_id) for loan_id in sorted(loan_ids)]
        return [to_loan(item) for item in self._db.batch_get({self._name: keys})[self._name]]

    @store_errors
    def page_of_borrower(self, borrower_id: str, limit: int, cursor: str | None) -> Page:
        """One page of the borrower's loans, newest first."""
        scope = f"borrower-loans:{borrower_id}"
        response = self._db.table(self._name).query(
            IndexName="borrower-loans-index",
            KeyConditionExpression=Key("borrower_id").eq(borrower_id),
            ScanIndexForward=False,
            Limit=limit,
            **self._cursors.start(cursor, scope),
        )
        return Page(
            [to_loan(i) for i in response["Items"]], self._cursors.encode(response.get("LastEvaluatedKey"), scope)
        )

    @store_errors
    def all_of_borrower(self, borrower_id: str) -> list[Loan]:
        query = self._db.query_all(
            self._name, IndexName="borrower-loans-index", KeyConditionExpression=Key("borrower_id").eq(borrower_id)
        )
        return [to_loan(item) for item in query]

    # -- writes -------------------------------------------------------------------------

    def add(self, loan: Loan) -> None:
        self._writes.append(Write.put(self._name, loan_item(loan), "attribute_not_exists(loan_id)"))

    def record_funding(self, funding: Funding) -> None:
        """Add what one acceptance funds to the loan, if DynamoDB agrees it may.

        The condition holds the funding invariants in DynamoDB itself, from the stored figures
        and the amount being funded alone, whatever `funding` claims about the loan: after the
        write `0 <= total_funded <= amount` (through `remaining`, which every write keeps equal
        to `amount - total_funded`), and the loan is ACTIVE exactly when nothing remains. A
        write that leaves room needs only that room, not the total it read, so concurrent
        acceptances of full contributions all commit; the one that completes the loan needs
        exactly what remains. A refusal carries the loan as it is.
        """
        amount = funding.participant.funded_amount
        update = "SET total_funded = total_funded + :funded, remaining = remaining - :funded, updated_at = :now"
        values: dict[str, Any] = {
            ":funded": amount,
            ":minus_funded": -amount,
            ":now": funding.participant.responded_at,
            ":pending": LoanStatus.PENDING,
        }
        # What the funding claims (completing the loan, or leaving room) is what is checked.
        completes = funding.loan.status == LoanStatus.ACTIVE
        if completes:
            update += ", #status = :active, activated_at = :now"
            values[":active"] = LoanStatus.ACTIVE
        room = "remaining = :funded" if completes else "remaining > :funded"
        condition = f"#status = :pending AND {room} AND total_funded >= :minus_funded"
        self._writes.append(
            Write.update(
                self._name, loan_key(funding.loan.loan_id), update, condition, values, conflict=_lost_to, report=True
            )
        )
