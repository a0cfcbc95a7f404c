"""Invitations to emails with no verified account, in the invitations table
(`invitee-email-index` finds those waiting for an email)."""

from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.invitations import Invitation
from ..domain.lifecycle import INVITATIONS, InvitationEvent, InvitationStatus
from .aws import Database, Write, store_errors

_FIELDS = set(Invitation.__dataclass_fields__)


def invitation_item(invitation: Invitation) -> dict[str, Any]:
    return {**asdict(invitation), "invitee_email": invitation.email}


def to_invitation(item: dict[str, Any]) -> Invitation:
    values = {key: value for key, value in item.items() if key in _FIELDS}
    values["email"] = item["invitee_email"]
    return Invitation(**values)


class InvitationRecords:
    def __init__(self, db: Database, writes: list[Write]):
        self._db = db
        self._writes = writes
        self._name = db.names.invitations

    @store_errors
    def pending_for(self, email: str) -> list[Invitation]:
        query = self._db.query_all(
            self._name,
            IndexName="invitee-email-index",
            KeyConditionExpression=Key("invitee_email").eq(email) & Key("status").eq(InvitationStatus.PENDING),
        )
        return [to_invitation(item) for item in query]

    # -- writes -------------------------------------------------------------------------

    def add(self, invitation: Invitation) -> None:
        self._writes.append(Write.put(self._name, invitation_item(invitation)))

    def activate(self, invitation: Invitation, user_id: str, now: str) -> None:
        """Mark it activated for `user_id`, if it still waits (a concurrent login may have
        got there first: then the whole unit of work is refused)."""
        activated = INVITATIONS.next(invitation.status, InvitationEvent.ACTIVATE)
        values = {":activated": activated, ":pending": InvitationStatus.PENDING, ":now": now, ":user": user_id}
        self._writes.append(
            Write.update(
                self._name,
                {"invitation_id": invitation.invitation_id},
                "SET #status = :activated, activated_at = :now, invitee_id = :user",
                "#status = :pending",
                values,
            )
        )
