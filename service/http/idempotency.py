"""`Idempotency-Key` for the operations that change state (see `usecases.idempotency`).

A handler of such an operation hands `idempotently` its use-case call and the rendering of its
outcome, kept apart: with a key, the rendering is what the key is completed with, inside the
commit of the effect, and what a retry gets back byte for byte (`Idempotent-Replayed: true`).
Without a key it is `render(call())`. The request reaches here only once Connexion has authenticated and validated it:
those refusals are never stored.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar

from connexion.context import operation, request
from connexion.jsonifier import JSONEncoder
from connexion.lifecycle import ConnexionResponse

from ..bootstrap import Services
from ..domain.errors import DomainError
from ..domain.idempotency import StoredResponse
from .errors import error_parts

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
T = TypeVar("T")
R = TypeVar("R", bound=tuple[Any, ...])  # a handler's reply: (body, status[, headers])


def _stored(reply: tuple[Any, ...]) -> StoredResponse:
    body, status, *headers = reply
    text = "" if body is None else json.dumps(body, cls=JSONEncoder)
    return StoredResponse(status, text, dict(headers[0]) if headers else {})


def _refusal(error: DomainError) -> StoredResponse:
    status, body, headers = error_parts(error)
    return StoredResponse(status, body.decode(), headers)


def _response(stored: StoredResponse, replayed: bool) -> ConnexionResponse:
    headers = {**stored.headers, **({REPLAYED: "true"} if replayed else {})}
    if not stored.body:
        return ConnexionResponse(status_code=stored.status, headers=headers)
    return ConnexionResponse(
        status_code=stored.status, content_type="application/json", body=stored.body.encode(), headers=headers
    )


def idempotently(
    services: Services, call: Callable[[], T], render: Callable[[T], R], user: str | None = None, body: Any = None
) -> R | ConnexionResponse:
    """`render(call())`, under the request's Idempotency-Key if it has one: `call` runs the use
    case (whose commit completes the key), `render` turns its outcome into the reply."""
    key = request.headers.get(HEADER)
    if key is None:
        return render(call())
    keyed = services.idempotency.request(user, operation.operation_id, key, request.method, request.url.path, body)
    stored, replayed = services.idempotency.run(keyed, call, lambda outcome: _stored(render(outcome)), _refusal)
    return _response(stored, replayed)
