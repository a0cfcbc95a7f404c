"""Idempotency keys, in the idempotency table (key: `scope`; `expires_at` is its TTL).

A key is taken by a conditional put of an in-progress marker naming its owner (the request
running it). The owner completes it with a put of the same condition, "still mine and still in
progress": inside the transaction of the effect it protects (`completion`, which the unit of
work adds), or on its own for an outcome that wrote nothing. A marker whose lock ran out (its
request died) may be taken again, and then the old owner's completion, and with it its whole
transaction, fails: no effect without its record, none twice.

A kept response's body is sealed (AES-GCM, under a key of the server's that the table does not
hold, bound to the record's scope): bodies carry access and refresh tokens, and the table must
not hold one a reader of it alone could use.
"""

import base64
import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..domain.idempotency import (
    KEEP_SECONDS,
    LOCK_SECONDS,
    IdempotencyKeyInUse,
    IdempotentRequest,
    KeyRecord,
    KeyState,
    StoredResponse,
)
from ..usecases.ports import PendingKey
from .aws import Database, Write, epoch, plain, store_errors

_MINE = "#owner = :owner AND #state = :running"
_MINE_NAMES = {"#owner": "owner", "#state": "state"}


_NONCE_BYTES = 12


class _Sealer:
    def __init__(self, secret: bytes):
        self._key = AESGCM(hmac.new(secret, b"idempotent-responses", hashlib.sha256).digest())

    def seal(self, scope: str, body: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        return base64.b64encode(nonce + self._key.encrypt(nonce, body.encode(), scope.encode())).decode()

    def open(self, scope: str, sealed: str) -> str:
        blob = base64.b64decode(sealed)
        return self._key.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], scope.encode()).decode()


def _record(item: dict[str, Any], sealer: _Sealer) -> KeyRecord:
    response = None
    if item.get("state") == KeyState.COMPLETED:
        body = sealer.open(str(item["scope"]), str(item["response_body"]))
        response = StoredResponse(int(item["response_status"]), body, dict(item.get("response_headers", {})))
    return KeyRecord(
        fingerprint=str(item["fingerprint"]),
        state=KeyState(item["state"]),
        locked_until=float(item["locked_until"]),
        expires_at=float(item["expires_at"]),
        response=response,
    )


def _completed(pending: PendingKey, response: StoredResponse, sealer: _Sealer) -> dict[str, Any]:
    return {
        "scope": pending.request.scope,
        "fingerprint": pending.request.fingerprint,
        "state": KeyState.COMPLETED,
        "owner": pending.owner,
        "locked_until": epoch(pending.now),
        "expires_at": int(pending.now + KEEP_SECONDS),
        "response_status": response.status,
        "response_body": sealer.seal(pending.request.scope, response.body),
        "response_headers": response.headers,
    }


def _lost(_item: dict[str, Any]) -> Exception:
    """Another request took the key after this one's lock ran out: it answers for the key."""
    return IdempotencyKeyInUse(LOCK_SECONDS)


class IdempotencyRecords:
    def __init__(self, db: Database, secret: bytes):
        """`secret`: the server's, from which the responses' sealing key is derived."""
        self._sealer = _Sealer(secret)
        self._db = db
        self._name = db.names.idempotency
        self._table = db.table(self._name)
        self._failed = db.client.exceptions.ConditionalCheckFailedException

    @store_errors
    def take(self, request: IdempotentRequest, owner: str, now: float) -> KeyRecord | None:
        """Take the key for `owner`; None if taken, else the record that holds it (as stored).
        A record past its 24 hours, or a marker past its lock, counts as free."""
        item = {
            "scope": request.scope,
            "fingerprint": request.fingerprint,
            "state": KeyState.IN_PROGRESS,
            "owner": owner,
            "locked_until": epoch(now + LOCK_SECONDS),
            "expires_at": int(now + KEEP_SECONDS),
        }
        try:
            self._db.client.put_item(
                TableName=self._name,
                Item=item,
                ConditionExpression="attribute_not_exists(#scope) OR expires_at <= :now"
                " OR (#state = :running AND locked_until <= :now)",
                ExpressionAttributeNames={"#scope": "scope", "#state": "state"},
                ExpressionAttributeValues={":now": epoch(now), ":running": KeyState.IN_PROGRESS},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._failed as exc:
            return _record(plain(exc.response.get("Item")), self._sealer)
        return None

    def completion(self, pending: PendingKey, response: StoredResponse) -> Write:
        """The key completed with `response`: one item of the effect's transaction."""
        return Write(
            {
                "Put": {
                    "TableName": self._name,
                    "Item": _completed(pending, response, self._sealer),
                    "ConditionExpression": _MINE,
                    "ExpressionAttributeNames": _MINE_NAMES,
                    "ExpressionAttributeValues": {":owner": pending.owner, ":running": KeyState.IN_PROGRESS},
                }
            },
            _lost,
        )

    @store_errors
    def complete(self, pending: PendingKey, response: StoredResponse) -> None:
        """The key completed with an outcome that wrote nothing; if another request has taken
        the key meanwhile, that one's outcome stands."""
        try:
            self._db.client.put_item(**self.completion(pending, response).request["Put"])
        except self._failed:
            pass

    @store_errors
    def release(self, pending: PendingKey) -> None:
        """Free the key (the request failed, and a retry is to run again)."""
        try:
            self._table.delete_item(
                Key={"scope": pending.request.scope},
                ConditionExpression=_MINE,
                ExpressionAttributeNames=_MINE_NAMES,
                ExpressionAttributeValues={":owner": pending.owner, ":running": KeyState.IN_PROGRESS},
            )
        except self._failed:
            pass
