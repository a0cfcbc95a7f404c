"""Users' notifications, in the notifications table (key: user, notification id; the sparse
`unread-index` holds only the unread ones, so listing them reads nothing else)."""

from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.notifications import Notice
from ..usecases.repositories import Page
from .aws import Database, Write, store_errors
from .cursors import CursorCodec

_FIELDS = set(Notice.__dataclass_fields__)


def to_notice(item: dict[str, Any]) -> tuple[Notice, bool]:
    """The notice and whether it has been read."""
    return Notice(**{key: value for key, value in item.items() if key in _FIELDS}), "unread_user" not in item


class NotificationRecords:
    def __init__(self, db: Database, writes: list[Write], cursors: CursorCodec):
        self._db = db
        self._writes = writes
        self._name = db.names.notifications
        self._table = db.table(self._name)
        self._cursors = cursors
        self._failed = db.client.exceptions.ConditionalCheckFailedException

    @store_errors
    def add(self, notice: Notice) -> bool:
        """Store the notice unless it is there already (an event delivered twice): True if new."""
        try:
            self._table.put_item(
                Item={**asdict(notice), "unread_user": notice.user_id},
                ConditionExpression="attribute_not_exists(notification_id)",
            )
        except self._failed:
            return False
        return True

    @store_errors
    def page(self, user_id: str, unread: bool, limit: int, cursor: str | None) -> Page:
        """One page of the user's notifications (as (notice, read) pairs), newest first."""
        scope = f"notifications:{user_id}:{'unread' if unread else 'all'}"
        query: dict[str, Any] = {"ScanIndexForward": False, "Limit": limit, **self._cursors.start(cursor, scope)}
        if unread:
            query.update(IndexName="unread-index", KeyConditionExpression=Key("unread_user").eq(user_id))
        else:
            query.update(KeyConditionExpression=Key("user_id").eq(user_id))
        response = self._table.query(**query)
        return Page(
            [to_notice(item) for item in response["Items"]],
            self._cursors.encode(response.get("LastEvaluatedKey"), scope),
        )

    @store_errors
    def unread_among(self, user_id: str, notification_ids: list[str]) -> list[str]:
        """Which of these are the user's and unread (one consistent read)."""
        keys = [{"user_id": user_id, "notification_id": i} for i in notification_ids]
        found = self._db.batch_get({self._name: keys})[self._name]
        return [item["notification_id"] for item in found if "unread_user" in item]

    def mark_read(self, user_id: str, notification_ids: list[str]) -> None:
        """Mark them read, if they still are unread when this commits."""
        for notification_id in notification_ids:
            self._writes.append(
                Write.update(
                    self._name,
                    {"user_id": user_id, "notification_id": notification_id},
                    "REMOVE unread_user",
                    "attribute_exists(unread_user)",
                    {},
                )
            )

    @store_errors
    def forget(self, notice: Notice) -> None:
        self._table.delete_item(Key={"user_id": notice.user_id, "notification_id": notice.notification_id})
