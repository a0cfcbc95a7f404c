"""Passwords, reset tokens and the versions that revoke tokens, on the users table.

A reset token item `password-reset#<sha-256>` leads from an emailed link to its user, whose
item names the newest one (`reset_hash`), so only that one works. Setting a password bumps
the user's `token_version` and `session_version` (`domain.sessions`): every access token
issued before is refused, every session ended, in the same write.
"""

from typing import Any

from ..domain.password_reset import ResetTokenInvalid
from ..domain.secret_tokens import SecretToken
from ..domain.users import User
from .aws import Conflict, Database, Write, lost_race, store_errors
from .login_guard import guard_key
from .users import EXISTS, find_token, is_user, to_user, token_item


def reset_key(token_hash: str) -> str:
    return f"password-reset#{token_hash}"


def _spent(_item: dict[str, Any]) -> Exception:
    return ResetTokenInvalid()


class CredentialRecords:
    def __init__(self, db: Database, writes: list[Write]):
        self._writes = writes
        self._name = db.names.users
        self._table = db.table(self._name)

    @store_errors
    def find_credentials(self, user_id: str) -> tuple[User, str] | None:
        """The user and their password hash."""
        item = self._table.get_item(Key={"user_id": user_id}, ConsistentRead=True).get("Item")
        return (to_user(item), item["password_hash"]) if item and is_user(item) else None

    def find_reset(self, token_hash: str) -> tuple[str, float] | None:
        """The user a password reset token was issued to, and when it expires."""
        return find_token(self._table, reset_key(token_hash))

    # -- writes, committed with the unit of work ----------------------------------------

    def renew_reset(self, user_id: str, reset: SecretToken) -> None:
        """Make `reset` the user's only valid password reset token."""
        self._writes += [
            Write.update(self._name, {"user_id": user_id}, "SET reset_hash = :hash", EXISTS, {":hash": reset.hash}),
            Write.put(self._name, token_item(user_id, reset, reset_key)),
        ]

    def reset_password(self, user: User, token_hash: str, password_hash: str) -> None:
        """Spend the reset token (which must be the user's newest) and set the password; lift a
        login lock too: the owner of the mailbox has just shown who they are."""
        self._writes += [
            Write.delete(
                self._name, {"user_id": reset_key(token_hash)}, "owner_id = :user", {":user": user.user_id}, _spent
            ),
            self._new_password(user.user_id, password_hash, "reset_hash = :hash", {":hash": token_hash}, _spent),
            Write.delete(self._name, guard_key(user.email)),
        ]

    def change_password(self, user_id: str, password_hash: str) -> None:
        self._writes.append(self._new_password(user_id, password_hash, EXISTS))

    def revoke_access(self, user_id: str) -> None:
        """Refuse every access token of the user issued until now."""
        self._writes.append(
            Write.update(self._name, {"user_id": user_id}, "ADD token_version :one", EXISTS, {":one": 1})
        )

    def _new_password(
        self,
        user_id: str,
        password_hash: str,
        condition: str,
        values: dict[str, Any] | None = None,
        conflict: Conflict = lost_race,
    ) -> Write:
        return Write.update(
            self._name,
            {"user_id": user_id},
            "SET password_hash = :password REMOVE reset_hash ADD token_version :one, session_version :one",
            condition,
            {":password": password_hash, ":one": 1, **(values or {})},
            conflict,
        )
