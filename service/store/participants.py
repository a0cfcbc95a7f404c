"""Participants, in the loan-participants table (key: loan, lender; `lender-status-index` for
a lender's participations). A participant whose email has no verified account yet is stored
under the email's key in place of a lender id, until its owner proves the address."""

from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.lifecycle import ParticipantStatus
from ..domain.loans import Participant
from .aws import Database, Write, store_errors
from .cursors import CursorCodec
from .users import email_key

_FIELDS = set(Participant.__dataclass_fields__)


def participant_item(participant: Participant) -> dict[str, Any]:
    item = {
        **asdict(participant),
        "lender_id": participant.lender_id or email_key(participant.email),
        "registered": participant.registered,
    }
    return {key: value for key, value in item.items() if value is not None}


def to_participant(item: dict[str, Any]) -> Participant:
    values = {key: value for key, value in item.items() if key in _FIELDS}
    if not item.get("registered"):
        values["lender_id"] = None
    return Participant(**values)


def participant_key(loan_id: str, lender_id: str) -> dict[str, str]:
    return {"loan_id": loan_id, "lender_id": lender_id}


class ParticipantRecords:
    def __init__(self, db: Database, writes: list[Write], cursors: CursorCodec):
        self._db = db
        self._writes = writes
        self._cursors = cursors
        self._name = db.names.participants

    @store_errors
    def of_loan(self, loan_id: str) -> list[Participant]:
        """Every participant of the loan, in the order of their keys (lender ids)."""
        query = self._db.query_all(self._name, KeyConditionExpression=Key("loan_id").eq(loan_id), ConsistentRead=True)
        return [to_participant(item) for item in query]

    @store_errors
    def all_of_lender(self, lender_id: str) -> list[Participant]:
        query = self._db.query_all(
            self._name, IndexName="lender-status-index", KeyConditionExpression=Key("lender_id").eq(lender_id)
        )
        return [to_participant(item) for item in query]

    @store_errors
    def pending_page(self, lender_id: str, limit: int, cursor: str | None) -> tuple[list[Participant], str | None]:
        """One page of the lender's pending participations, and the cursor after it."""
        scope = f"lender-pending:{lender_id}"
        response = self._db.table(self._name).query(
            IndexName="lender-status-index",
            KeyConditionExpression=Key("lender_id").eq(lender_id) & Key("status").eq(ParticipantStatus.PENDING),
            Limit=limit,
            **self._cursors.start(cursor, scope),
        )
        return (
            [to_participant(item) for item in response["Items"]],
            self._cursors.encode(response.get("LastEvaluatedKey"), scope),
        )

    # -- writes -------------------------------------------------------------------------

    def add(self, participant: Participant) -> None:
        """A new participant; refused if the loan already has one for this lender or email."""
        self._writes.append(Write.put(self._name, participant_item(participant), "attribute_not_exists(lender_id)"))

    def record_acceptance(self, participant: Participant) -> None:
        """The participation accepted, if it was pending: what it funds must be more than
        nothing (a pending one has funded nothing) and at most its invited contribution,
        whatever `participant` says."""
        values = {
            ":accepted": ParticipantStatus.ACCEPTED,
            ":funded": participant.funded_amount,
            ":now": participant.responded_at,
            ":pending": ParticipantStatus.PENDING,
        }
        self._writes.append(
            Write.update(
                self._name,
                participant_key(participant.loan_id, str(participant.lender_id)),
                "SET #status = :accepted, funded_amount = :funded, responded_at = :now",
                "#status = :pending AND funded_amount < :funded AND contribution_amount >= :funded",
                values,
            )
        )

    def take_over_placeholder(self, participant: Participant) -> None:
        """Replace the participant stored under its email's key by the same participation under
        its (now verified) lender's id."""
        placeholder = participant_key(participant.loan_id, email_key(participant.email))
        self._writes.append(Write.delete(self._name, placeholder))
        self._writes.append(Write.put(self._name, participant_item(participant), "attribute_not_exists(lender_id)"))

    def record_decline(self, participant: Participant) -> None:
        """The participation declined, if it was pending."""
        values = {
            ":declined": participant.status,
            ":now": participant.responded_at,
            ":reason": participant.decline_reason,
            ":pending": ParticipantStatus.PENDING,
        }
        self._writes.append(
            Write.update(
                self._name,
                participant_key(participant.loan_id, _lender_key(participant)),
                "SET #status = :declined, responded_at = :now, decline_reason = :reason",
                "#status = :pending",
                values,
            )
        )

    def record_closing(self, before: Participant, after: Participant) -> None:
        """Closed or released with its loan, if it is still as it was read."""
        self._writes.append(
            Write.update(
                self._name,
                participant_key(after.loan_id, _lender_key(after)),
                "SET #status = :after",
                "#status = :before",
                {":after": after.status, ":before": before.status},
            )
        )


def _lender_key(participant: Participant) -> str:
    return participant.lender_id or email_key(participant.email)
