"""Attempt counters per email, in the users table (with a TTL): logins (`login-guard#<email>`)
and password reset requests (`reset-guard#<email>`).

Each is changed by single conditional updates, atomic in DynamoDB: the count of an attempt
happens before its password is checked, so parallel guesses cannot all be checked.
"""

from ..domain.errors import StoreUnavailable
from .aws import Database, epoch, plain, store_errors

LOGINS, RESETS = "login-guard#", "reset-guard#"


def guard_key(email: str, kind: str = LOGINS) -> dict[str, str]:
    return {"user_id": f"{kind}{email}"}


class LoginGuard:
    def __init__(self, db: Database, kind: str = LOGINS):
        self._kind = kind
        self._table = db.table(db.names.users)
        self._failed = db.client.exceptions.ConditionalCheckFailedException

    @store_errors
    def reserve_login_attempt(
        self, email: str, now: float, limit: int, window_seconds: int, expires_at: int
    ) -> tuple[int | None, float]:
        """Count one login attempt for `email`: `(its number in the window, when the window
        ends)`, or `(None, window end)` when the window already holds `limit` attempts. A
        window opens at the first attempt after the last one ended."""
        clock = {":now": epoch(now), ":expires": expires_at}
        for _ in range(3):
            try:
                updated = self._table.update_item(
                    Key=guard_key(email, self._kind),
                    UpdateExpression="ADD attempts :one SET expires_at = :expires",
                    ConditionExpression="window_ends > :now AND attempts < :limit",
                    ExpressionAttributeValues={**clock, ":one": 1, ":limit": limit},
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )["Attributes"]
                return int(updated["attempts"]), float(updated["window_ends"])
            except self._failed as exc:
                found = plain(exc.response.get("Item"))
            if found and float(found["window_ends"]) > now:
                return None, float(found["window_ends"])
            try:
                self._table.update_item(
                    Key=guard_key(email, self._kind),
                    UpdateExpression="SET attempts = :one, window_ends = :ends, expires_at = :expires",
                    ConditionExpression="attribute_not_exists(window_ends) OR window_ends <= :now",
                    ExpressionAttributeValues={**clock, ":one": 1, ":ends": epoch(now + window_seconds)},
                )
                return 1, now + window_seconds
            except self._failed:
                continue  # another attempt opened the window first: count in it
        raise StoreUnavailable("The data store is too busy; please retry.")

    @store_errors
    def lock_login(self, email: str, until: float, expires_at: int) -> None:
        """Keep the window (full of failures) closed until `until`."""
        self._table.update_item(
            Key=guard_key(email, self._kind),
            UpdateExpression="SET window_ends = :until, expires_at = :expires",
            ExpressionAttributeValues={":until": epoch(until), ":expires": expires_at},
        )

    @store_errors
    def release_login_attempt(self, email: str) -> None:
        """A successful login gives its attempt back; the failures stay counted."""
        try:
            self._table.update_item(
                Key=guard_key(email, self._kind),
                UpdateExpression="ADD attempts :minus_one",
                ConditionExpression="attempts > :zero",
                ExpressionAttributeValues={":minus_one": -1, ":zero": 0},
            )
        except self._failed:
            pass  # a new window opened meanwhile: nothing of this attempt is left to give back
