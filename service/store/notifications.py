"""Users' notifications, in the notifications table (key: user, notification id; the sparse
`unread-index` holds only the unread ones, so listing them reads nothing else)."""

from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.notifications import Notice
from ..usecases.ports import Page
from .aws import Database, store_errors
from .cursors import CursorCodec

_FIELDS = set(Notice.__dataclass_fields__)


def to_notice(item: dict[str, Any]) -> tuple[Notice, bool]:
    """The notice and whether it has been read."""
    return Notice(**{key: value for key, value in item.items() if key in _FIELDS}), "unread_user" not in item


class NotificationRecords:
    def __init__(self, db: Database, cursors: CursorCodec):
        self._db = db
        self._table = db.table(db.names.notifications)
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
    def mark_read(self, user_id: str, notification_ids: list[str]) -> int:
        """Mark the user's unread notifications among these read; how many there were."""
        marked = 0
        for notification_id in notification_ids:
            try:
                self._table.update_item(
                    Key={"user_id": user_id, "notification_id": notification_id},
                    UpdateExpression="REMOVE unread_user",
                    ConditionExpression="attribute_exists(unread_user)",
                )
                marked += 1
            except self._failed:
                continue  # not the user's, not there, or read already
        return marked

    @store_errors
    def forget(self, notice: Notice) -> None:
        self._table.delete_item(Key={"user_id": notice.user_id, "notification_id": notice.notification_id})
