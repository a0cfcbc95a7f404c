"""Schedules and repayments, in the loan-repayments table (key: loan, entry).

A loan's schedule is one item (`SCHEDULE`), its instalments a list of
`[due_date, principal, interest]` (360 of them are about 12 KB, well inside an item), written
once by the acceptance that activates the loan. Each repayment is one item (`R#000001` ...,
so a query returns them in the order they were applied) with every lender's share in a map
(40 lenders at most): nothing per instalment or per lender, so recording a repayment is two
items of one transaction whatever the loan's size.
"""

from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.repayments import Repayment
from ..domain.schedule import Instalment, Schedule
from ..usecases.repositories import Page
from .aws import Database, Write, store_errors
from .cursors import CursorCodec

SCHEDULE = "SCHEDULE"
_REPAYMENT = "R#"


def schedule_item(loan_id: str, schedule: Schedule) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "entry": SCHEDULE,
        "repayment_type": schedule.repayment_type,
        "principal": schedule.principal,
        "instalments": [[i.due_date, i.principal, i.interest] for i in schedule.instalments],
    }


def to_schedule(item: dict[str, Any]) -> Schedule:
    instalments = tuple(
        Instalment(number, str(due), principal, interest)
        for number, (due, principal, interest) in enumerate(item["instalments"], start=1)
    )
    return Schedule(item["repayment_type"], item["principal"], instalments)


def repayment_item(repayment: Repayment) -> dict[str, Any]:
    return {
        "loan_id": repayment.loan_id,
        "entry": f"{_REPAYMENT}{repayment.number:06d}",
        "repayment_id": repayment.repayment_id,
        "number": repayment.number,
        "amount": repayment.amount,
        "paid_at": repayment.paid_at,
        "interest": repayment.interest,
        "principal": repayment.principal,
        "shares": dict(repayment.shares),
    }


def to_repayment(item: dict[str, Any]) -> Repayment:
    return Repayment(
        repayment_id=item["repayment_id"],
        loan_id=item["loan_id"],
        number=int(item["number"]),
        amount=item["amount"],
        paid_at=item["paid_at"],
        interest=item["interest"],
        principal=item["principal"],
        shares=dict(item["shares"]),
    )


class RepaymentRecords:
    def __init__(self, db: Database, writes: list[Write], cursors: CursorCodec):
        self._db = db
        self._writes = writes
        self._cursors = cursors
        self._name = db.names.repayments

    def add_schedule(self, loan_id: str, schedule: Schedule) -> None:
        self._writes.append(Write.put(self._name, schedule_item(loan_id, schedule), "attribute_not_exists(entry)"))

    def add(self, repayment: Repayment) -> None:
        """A repayment, in the place its number gives it (which no other may take)."""
        self._writes.append(Write.put(self._name, repayment_item(repayment), "attribute_not_exists(entry)"))

    @store_errors
    def schedule(self, loan_id: str) -> Schedule | None:
        key = {"loan_id": loan_id, "entry": SCHEDULE}
        item = self._db.table(self._name).get_item(Key=key, ConsistentRead=True).get("Item")
        return to_schedule(item) if item else None

    @store_errors
    def schedules(self, loan_ids: set[str]) -> dict[str, Schedule]:
        keys = [{"loan_id": loan_id, "entry": SCHEDULE} for loan_id in sorted(loan_ids)]
        found = self._db.batch_get({self._name: keys})[self._name] if keys else []
        return {item["loan_id"]: to_schedule(item) for item in found}

    @store_errors
    def page(self, loan_id: str, limit: int, cursor: str | None) -> Page:
        """One page of the loan's repayments, in the order they were applied."""
        scope = f"loan-repayments:{loan_id}"
        response = self._db.table(self._name).query(
            KeyConditionExpression=Key("loan_id").eq(loan_id) & Key("entry").begins_with(_REPAYMENT),
            ConsistentRead=True,
            Limit=limit,
            **self._cursors.start(cursor, scope),
        )
        return Page(
            [to_repayment(item) for item in response["Items"]],
            self._cursors.encode(response.get("LastEvaluatedKey"), scope),
        )
