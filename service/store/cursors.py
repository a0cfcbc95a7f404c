"""Opaque page cursors: DynamoDB's LastEvaluatedKey, signed so a client cannot forge one."""

import base64
import hashlib
import hmac
import json
from typing import Any

from ..domain.errors import InvalidInput

_MAC_BYTES = 16


class CursorCodec:
    def __init__(self, key: bytes):
        self._key = key

    def _mac(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\n" + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, last_key: dict[str, Any] | None, scope: str) -> str | None:
        """A cursor valid only for the query named by `scope` (index and owner)."""
        if not last_key:
            return None
        payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
        token = base64.urlsafe_b64encode(self._mac(scope, payload) + payload)
        return token.rstrip(b"=").decode()

    def decode(self, cursor: str | None, scope: str) -> dict[str, Any] | None:
        if cursor is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
            if hmac.compare_digest(mac, self._mac(scope, payload)):
                return dict(json.loads(payload))
        except ValueError:
            pass
        raise InvalidInput("'cursor' is not a cursor this API issued for this list.", {"field": "cursor"})

    def start(self, cursor: str | None, scope: str) -> dict[str, Any]:
        """The query arguments that continue after `cursor` (none for the first page)."""
        start = self.decode(cursor, scope)
        return {"ExclusiveStartKey": start} if start else {}
