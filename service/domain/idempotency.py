"""Idempotency keys: a retried request takes effect once and gets the first response again.

A key is scoped to its caller and operation. The first request with it takes the key (an
in-progress marker, held `LOCK_SECONDS`), runs, and completes the key with its response, kept
`KEEP_SECONDS`; the same request again gets that response replayed, a different one with the
same key `IDEMPOTENCY_KEY_REUSED`, and one made while the first still runs
`IDEMPOTENCY_KEY_IN_USE`. A request is "the same" when its method, path and canonical body
are: compared by an HMAC fingerprint, so no body (a password, a token) is kept in the clear.
"""

import hashlib
import hmac
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .errors import DomainError

KEEP_SECONDS = 24 * 3600
# Longer than any function's timeout (the API's are 30 s): the key of a request whose process
# died frees itself, and no request still running can lose it.
LOCK_SECONDS = 60
# Answers that depend on more than the request, so a retry should be decided again: the
# caller's credentials or verification, rate limits, failures, and a file not uploaded yet.
NOT_KEPT = frozenset(
    {
        "INVALID_TOKEN",
        "INVALID_CREDENTIALS",
        "INVALID_CURRENT_PASSWORD",
        "REFRESH_TOKEN_INVALID",
        "REFRESH_TOKEN_REUSED",
        "EMAIL_NOT_VERIFIED",
        "TOO_MANY_ATTEMPTS",
        "DATABASE_ERROR",
        "INTERNAL_ERROR",
        "IDEMPOTENCY_KEY_REUSED",
        "IDEMPOTENCY_KEY_IN_USE",
        "DOCUMENT_NOT_UPLOADED",
    }
)


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUse(DomainError):
    code = "IDEMPOTENCY_KEY_IN_USE"

    def __init__(self, retry_after: int):
        super().__init__(f"A request with this Idempotency-Key is still running; retry in {retry_after} seconds.")
        self.retry_after = retry_after


class KeyState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class IdempotentRequest:
    scope: str  # caller, operation and key
    fingerprint: str


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str  # the JSON text sent, "" for none
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyRecord:
    fingerprint: str
    state: KeyState
    locked_until: float
    expires_at: float
    response: StoredResponse | None = None


def scope(caller: str | None, operation: str, key: str) -> str:
    """Where a key lives: a signed-in caller's own, or (for requests without a token) the key
    alone, per operation."""
    return f"{caller or '-'}#{operation}#{key}"


def _canonical(value: Any) -> Any:
    """JSON values with every number as one decimal spelling: `100`, `100.0` and `1E+2` agree."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)).normalize()
        return format(number, "f") if number.is_finite() else str(number)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    return [_canonical(v) for v in value]


def fingerprint(secret: bytes, method: str, path: str, body: Any) -> str:
    text = json.dumps([method.upper(), path, _canonical(body)], sort_keys=True, separators=(",", ":"))
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def kept(error: DomainError) -> bool:
    """Whether a refusal is the request's outcome, to be replayed (see `NOT_KEPT`)."""
    return error.code not in NOT_KEPT


def replay(record: KeyRecord, request: IdempotentRequest, now: float) -> StoredResponse:
    """What a request gets when its key is taken: the first response, or why not."""
    if record.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was used for a different request.")
    if record.state == KeyState.COMPLETED and record.response is not None:
        return record.response
    raise IdempotencyKeyInUse(min(LOCK_SECONDS, max(1, math.ceil(record.locked_until - now))))
