"""Loans, in the loans table (with `borrower-loans-index` for a borrower's loans)."""

from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.closing import Closing
from ..domain.events import LoanEventRecord
from ..domain.funding import Funding
from ..domain.lifecycle import LoanStatus
from ..domain.loans import Loan
from ..domain.money import ZERO
from ..domain.repayments import Recorded
from ..usecases.repositories import Page
from .aws import Database, Write, store_errors
from .cursors import CursorCodec
from .events import EventRecords
from .loan_items import loan_item, loan_key, lost_to, to_loan

_PENDING = "#status = :pending"
_OPEN = "#status = :pending AND funding_deadline > :now"


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
        sets = "total_funded = total_funded + :funded, remaining = remaining - :funded, funded_by.#lender = :funded"
        values: dict[str, Any] = {":funded": amount, ":minus_funded": -amount}
        # What the funding claims (completing the loan, or leaving room) is what is checked.
        completes = funding.loan.status == LoanStatus.ACTIVE
        if completes:
            sets += ", #status = :active, activated_at = :now, total_due = :due"
            values.update({":active": LoanStatus.ACTIVE, ":due": funding.loan.total_due})
        room = "remaining = :funded" if completes else "remaining > :funded"
        now = str(funding.participant.responded_at)
        self._update(
            funding.loan.loan_id,
            sets,
            f"{room} AND total_funded >= :minus_funded AND attribute_not_exists(funded_by.#lender)",
            values,
            now,
            events,
            names={"#lender": str(funding.participant.lender_id)},
        )

    def record_repayment(self, recorded: Recorded, events: list[LoanEventRecord]) -> None:
        """A repayment, if the loan is ACTIVE and as it was read: nothing repaid since (the
        split depends on the running total before it), and never more than it owes."""
        before, after = recorded.before, recorded.loan
        completes = after.status == LoanStatus.COMPLETED
        sets = "repaid = :repaid, repayment_count = :count"
        values: dict[str, Any] = {
            ":active": LoanStatus.ACTIVE,
            ":before": before.repaid,
            ":seen": before.repayment_count,
            ":repaid": after.repaid,
            ":count": after.repayment_count,
        }
        if completes:
            sets += ", #status = :completed, closed_at = :now"
            values[":completed"] = LoanStatus.COMPLETED
        owes = "total_due = :repaid" if completes else "total_due > :repaid"
        self._update(
            after.loan_id,
            sets,
            f"repaid = :before AND repayment_count = :seen AND {owes}",
            values,
            recorded.repayment.paid_at,
            events,
            state="#status = :active",
        )

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
            ":nobody": {},
        }
        sets = "#status = :final, total_funded = :zero, remaining = :amount, closed_at = :closed, funded_by = :nobody"
        condition = "total_funded = :seen AND lender_count = :invited"
        # An expiry finds the deadline passed; anything else must come before it.
        state = _PENDING if loan.status == LoanStatus.EXPIRED else _OPEN
        self._update(loan.loan_id, sets, condition, values, now, events, state=state)

    def _update(
        self,
        loan_id: str,
        sets: str,
        condition: str,
        values: dict[str, Any],
        now: str,
        events: list[LoanEventRecord],
        add: str = "",
        state: str = _OPEN,
        names: dict[str, str] | None = None,
    ) -> None:
        """An update of a loan in `state` (by default PENDING, before its deadline) that
        appends `events` to its history."""
        update = ", ".join(
            part
            for part in (sets, "updated_at = :now", "event_ids = list_append(if_not_exists(event_ids, :none), :events)")
            if part
        )
        values = {
            **values,
            **({":pending": LoanStatus.PENDING} if ":pending" in state else {}),
            ":now": now,
            ":none": [],
            ":events": [event.event_id for event in events],
        }
        self._writes.append(
            Write.update(
                self._name,
                loan_key(loan_id),
                f"SET {update}" + (f" ADD {add}" if add else ""),
                " AND ".join(part for part in (state, condition) if part),
                values,
                conflict=lost_to,
                report=True,
                names=names,
            )
        )
        self._record(events)

    def _record(self, events: list[LoanEventRecord]) -> None:
        for event in events:
            self._events.add(event)
