"""Refresh tokens and their families, in the sessions table (key `record_id`; `expires_at`
is its TTL).

`refresh#<sha-256>` is one refresh token: its family, its user, when it expires and when it
was spent. `family#<id>` is one session: its user, the `session_version` it was started
under, and whether it is revoked. Revoking a family is one write however many tokens it has
had, and every refresh checks the flag inside its own transaction. A spent token is kept
until its own expiry, so a reuse is recognised for as long as the token could have been used.
"""

from typing import Any

from ..domain.secret_tokens import SecretToken
from ..domain.sessions import Family, StoredRefresh
from .aws import Database, Write, epoch, store_errors

NEW, EXISTS = "attribute_not_exists(record_id)", "attribute_exists(record_id)"
LIVE = "attribute_exists(record_id) AND attribute_not_exists(revoked)"


def refresh_key(token_hash: str) -> dict[str, str]:
    return {"record_id": f"refresh#{token_hash}"}


def family_key(family_id: str) -> dict[str, str]:
    return {"record_id": f"family#{family_id}"}


class SessionRecords:
    def __init__(self, db: Database, writes: list[Write]):
        self._writes = writes
        self._name = db.names.sessions
        self._table = db.table(self._name)

    @store_errors
    def find(self, token_hash: str) -> tuple[StoredRefresh | None, Family | None]:
        """The refresh token with this hash and its family, as stored (each None if absent)."""
        item = self._get(refresh_key(token_hash))
        if item is None:
            return None, None
        token = StoredRefresh(
            family_id=item["family_id"],
            user_id=item["user_id"],
            expires_at=float(item["expires_at"]),
            spent_at=float(item["spent_at"]) if "spent_at" in item else None,
        )
        return token, self.family(token.family_id)

    @store_errors
    def family(self, family_id: str) -> Family | None:
        found = self._get(family_key(family_id))
        if found is None:
            return None
        return Family(family_id, found["user_id"], int(found["session_version"]), bool(found.get("revoked")))

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return item

    # -- writes, committed with the unit of work ----------------------------------------

    def start(self, family: Family, token: SecretToken) -> None:
        """A new family and its first refresh token."""
        record = {**family_key(family.family_id), "user_id": family.user_id, "session_version": family.version}
        self._writes.append(Write.put(self._name, {**record, "expires_at": token.expires_at}, NEW))
        self._add_token(family, token)

    def rotate(self, spent_hash: str, family: Family, token: SecretToken, grace_start: float) -> None:
        """Spend `spent_hash` (unless it was spent after `grace_start`, when it keeps its first
        spending) and add `token` to its family, if the family is not revoked meanwhile."""
        self._writes += [
            Write.update(
                self._name,
                refresh_key(spent_hash),
                "SET spent_at = if_not_exists(spent_at, :now)",
                f"{EXISTS} AND (attribute_not_exists(spent_at) OR spent_at > :grace_start)",
                {":now": epoch(token.issued_at), ":grace_start": epoch(grace_start)},
            ),
            # The family lives as long as its newest token.
            Write.update(
                self._name,
                family_key(family.family_id),
                "SET expires_at = :expires",
                LIVE,
                {":expires": token.expires_at},
            ),
        ]
        self._add_token(family, token)

    def revoke(self, family_id: str) -> None:
        self._writes.append(
            Write.update(self._name, family_key(family_id), "SET revoked = :true", EXISTS, {":true": True})
        )

    def keep(self, family_id: str, version: int) -> None:
        """Carry a live family over to the user's new `session_version`."""
        self._writes.append(
            Write.update(
                self._name, family_key(family_id), "SET session_version = :version", LIVE, {":version": version}
            )
        )

    def _add_token(self, family: Family, token: SecretToken) -> None:
        item = {
            **refresh_key(token.hash),
            "family_id": family.family_id,
            "user_id": family.user_id,
            "expires_at": token.expires_at,
        }
        self._writes.append(Write.put(self._name, item, NEW))
