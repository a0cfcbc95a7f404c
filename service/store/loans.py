"""Loans, in the loans table (with `borrower-loans-index` for a borrower's loans)."""

from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.closing import Closing
from ..domain.events import LoanEventRecord
from ..domain.funding import Funding
from ..domain.lifecycle import LoanStatus
from ..domain.loans import Loan
from ..domain.money import ZERO
from ..usecases.ports import LostRace, Page
from .aws import Database, Write, store_errors
from .cursors import CursorCodec
from .events import EventRecords

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
    return Loan(**{key: value for key, value in item.items() if key in _FIELDS})


def loan_key(loan_id: str) -> dict[str, str]:
    return {"loan_id": loan_id}


def _lost_to(found: dict[str, Any]) -> LostRace:
    """A funding refused: the loan as DynamoDB found it, to decide again on."""
    return LostRace(loan=to_loan(found) if found else None)


class LoanRecords:
    def __init__(self, db: Database, writes: list[Write], cursors: CursorCodec, events: EventRecords):
        self._db = db
        self._writes = writes
        self._cursors = cursors
        self._events = events
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

    @store_errors
    def past_deadline(self, now: str, limit: int) -> list[str]:
        """Ids of PENDING loans whose funding deadline has passed, soonest first
        (`status-deadline-index`)."""
        response = self._db.table(self._name).query(
            IndexName="status-deadline-index",
            KeyConditionExpression=Key("status").eq(LoanStatus.PENDING) & Key("funding_deadline").lte(now),
            Limit=limit,
        )
        return [item["loan_id"] for item in response["Items"]]

    # -- writes: each records its events, appended to the loan's history ----------------

    def add(self, loan: Loan, lenders: int, events: list[LoanEventRecord]) -> None:
        self._writes.append(Write.put(self._name, loan_item(loan, events, lenders), "attribute_not_exists(loan_id)"))
        self._record(events)

    def record_funding(self, funding: Funding, events: list[LoanEventRecord]) -> None:
        """Add what one acceptance funds to the loan, if DynamoDB agrees it may.

        The condition holds the funding invariants in DynamoDB itself, from the stored figures
        and the amount being funded alone, whatever `funding` claims about the loan: after the
        write `0 <= total_funded <= amount` (through `remaining`, which every write keeps equal
        to `amount - total_funded`), the loan is ACTIVE exactly when nothing remains, and its
        deadline has not passed. A write that leaves room needs only that room, not the total
        it read, so concurrent acceptances of full contributions all commit; the one that
        completes the loan needs exactly what remains. A refusal carries the loan as it is.
        """
        amount = funding.participant.funded_amount
        sets = "total_funded = total_funded + :funded, remaining = remaining - :funded"
        values: dict[str, Any] = {":funded": amount, ":minus_funded": -amount}
        # What the funding claims (completing the loan, or leaving room) is what is checked.
        completes = funding.loan.status == LoanStatus.ACTIVE
        if completes:
            sets += ", #status = :active, activated_at = :now"
            values[":active"] = LoanStatus.ACTIVE
        room = "remaining = :funded" if completes else "remaining > :funded"
        now = str(funding.participant.responded_at)
        self._update(funding.loan.loan_id, sets, f"{room} AND total_funded >= :minus_funded", values, now, events)

    def record_decline(self, loan: Loan, now: str, events: list[LoanEventRecord]) -> None:
        """A decline changes no figure of the loan, but must find it open, and is history."""
        self._update(loan.loan_id, "", "", {}, now, events)

    def record_invitations(self, loan: Loan, count: int, limit: int, now: str, events: list[LoanEventRecord]) -> None:
        """`count` more lenders, if the loan then invites at most `limit` in all."""
        self._update(
            loan.loan_id,
            "",
            "lender_count <= :room",
            {":count": count, ":room": limit - count},
            now,
            events,
            add="lender_count :count",
        )

    def record_closing(self, closing: Closing, invited: int, now: str, events: list[LoanEventRecord]) -> None:
        """The loan cancelled or expired, if it is still as it was read: no funding and no
        invitation since (the participations the closing changes are then all of them)."""
        loan = closing.loan
        values = {
            ":final": loan.status,
            ":zero": ZERO,
            ":amount": loan.amount,
            ":closed": loan.closed_at,
            ":seen": closing.before.total_funded,
            ":invited": invited,
        }
        sets = "#status = :final, total_funded = :zero, remaining = :amount, closed_at = :closed"
        condition = "total_funded = :seen AND lender_count = :invited"
        # An expiry finds the deadline passed; anything else must come before it.
        self._update(
            loan.loan_id, sets, condition, values, now, events, before_deadline=loan.status != LoanStatus.EXPIRED
        )

    def _update(
        self,
        loan_id: str,
        sets: str,
        condition: str,
        values: dict[str, Any],
        now: str,
        events: list[LoanEventRecord],
        add: str = "",
        before_deadline: bool = True,
    ) -> None:
        """An update of a PENDING loan (before its deadline, unless an expiry) that appends
        `events` to its history."""
        update = ", ".join(
            part
            for part in (sets, "updated_at = :now", "event_ids = list_append(if_not_exists(event_ids, :none), :events)")
            if part
        )
        opened = "#status = :pending" + (" AND funding_deadline > :now" if before_deadline else "")
        values = {
            **values,
            ":pending": LoanStatus.PENDING,
            ":now": now,
            ":none": [],
            ":events": [event.event_id for event in events],
        }
        self._writes.append(
            Write.update(
                self._name,
                loan_key(loan_id),
                f"SET {update}" + (f" ADD {add}" if add else ""),
                " AND ".join(part for part in (opened, condition) if part),
                values,
                conflict=_lost_to,
                report=True,
            )
        )
        self._record(events)

    def _record(self, events: list[LoanEventRecord]) -> None:
        for event in events:
            self._events.add(event)
