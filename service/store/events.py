"""Loan events, in the loan-events table (key: loan, event id; its stream feeds the notifier).

An event's sequence is its place in its loan's `event_ids` list, which every write that records
an event appends to in the same transaction (`LoanRecords`): DynamoDB applies the updates of one
item one after another, so the list has no gaps and no two events share a place, and no write
needs to know the last sequence number to add one. Events are only ever put, never changed.
"""

from dataclasses import asdict
from typing import Any

from ..domain.events import LoanEventRecord
from ..usecases.repositories import Page
from .aws import Database, Write, plain, store_errors
from .cursors import CursorCodec

_FIELDS = set(LoanEventRecord.__dataclass_fields__)


def event_item(event: LoanEventRecord) -> dict[str, Any]:
    return {key: value for key, value in asdict(event).items() if value is not None}


def to_event(item: dict[str, Any]) -> LoanEventRecord:
    values = {key: value for key, value in item.items() if key in _FIELDS}
    values.setdefault("actor_id", None)
    values.setdefault("from_status", None)
    return LoanEventRecord(**values)


class EventRecords:
    def __init__(self, db: Database, writes: list[Write], cursors: CursorCodec):
        self._db = db
        self._writes = writes
        self._cursors = cursors
        self._name = db.names.events

    def add(self, event: LoanEventRecord) -> None:
        self._writes.append(Write.put(self._name, event_item(event), "attribute_not_exists(event_id)"))

    @store_errors
    def page(self, loan_id: str, limit: int, cursor: str | None) -> Page:
        """One page of the loan's history, oldest first, as (sequence, event) pairs."""
        scope = f"loan-events:{loan_id}"
        start = int((self._cursors.decode(cursor, scope) or {}).get("next", 0))
        loan = (
            self._db.table(self._db.names.loans)
            .get_item(Key={"loan_id": loan_id}, ConsistentRead=True, ProjectionExpression="event_ids")
            .get("Item", {})
        )
        ids: list[str] = list(loan.get("event_ids", []))
        wanted = ids[start : start + limit]
        found = self._db.batch_get({self._name: [{"loan_id": loan_id, "event_id": i} for i in wanted]})[self._name]
        by_id = {item["event_id"]: to_event(item) for item in found}
        more = start + limit < len(ids)
        return Page(
            [(start + offset + 1, by_id[i]) for offset, i in enumerate(wanted)],
            self._cursors.encode({"next": start + limit}, scope) if more else None,
        )


def from_stream(new_image: dict[str, Any]) -> LoanEventRecord:
    """The event a stream record's `NewImage` (DynamoDB's JSON) carries."""
    return to_event(plain(new_image))
