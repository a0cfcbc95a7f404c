"""Running a request under its Idempotency-Key (see `domain.idempotency`).

The key is taken before the use case runs. The use case's commit completes it in the same
transaction as the effect (`PendingKey`, which the unit of work reads); an outcome that wrote
nothing (a refusal the service decided) completes it on its own. An answer that is not kept
(`domain.idempotency.NOT_KEPT`) or a failure frees the key, so a retry runs again; a process
that dies leaves the marker, which frees itself after `LOCK_SECONDS`.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from ..domain.errors import DomainError
from ..domain.idempotency import IdempotentRequest, StoredResponse, fingerprint, kept, replay, scope
from . import new_id
from .ports import PENDING_KEY, Clock, PendingKey, Storage

T = TypeVar("T")


class IdempotencyService:
    def __init__(self, store: Storage, clock: Clock, fingerprint_key: bytes):
        self.store = store
        self.clock = clock
        self._fingerprint_key = fingerprint_key

    def request(
        self, caller: str | None, operation: str, key: str, method: str, path: str, body: Any
    ) -> IdempotentRequest:
        """The keyed request: the key's place, and what makes a retry the same request."""
        return IdempotentRequest(scope(caller, operation, key), fingerprint(self._fingerprint_key, method, path, body))

    def run(
        self,
        request: IdempotentRequest,
        call: Callable[[], T],
        render: Callable[[T], StoredResponse],
        render_refusal: Callable[[DomainError], StoredResponse],
    ) -> tuple[StoredResponse, bool]:
        """The response to send, and whether it is a replay of the first one."""
        keys, now = self.store.idempotency, self.clock.now()
        pending = PendingKey(request, new_id(), now, render)
        taken = keys.take(request, pending.owner, now)
        if taken is not None:
            return replay(taken, request, now), True
        token = PENDING_KEY.set(pending)
        try:
            outcome = call()
        except DomainError as refusal:
            if pending.response is None:
                if kept(refusal):
                    keys.complete(pending, render_refusal(refusal))
                else:
                    keys.release(pending)
            raise
        except Exception:
            if pending.response is None:
                keys.release(pending)
            raise
        finally:
            PENDING_KEY.reset(token)
        if pending.response is None:  # nothing was written: the outcome completes the key alone
            pending.response = render(outcome)
            keys.complete(pending, pending.response)
        return pending.response, False
