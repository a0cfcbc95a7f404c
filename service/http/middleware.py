"""The outermost ASGI layer: a request id on every response and log line, one access log
line per request, the security headers, and a cap on body size."""

import logging
import time
import uuid

from connexion.exceptions import ProblemException
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..logs import bind_request_id, unbind_request_id
from .errors import STATUS_BY_CODE, error_body

access_log = logging.getLogger("service.access")
# On every response: nothing here may be stored by a cache (tokens, personal data, figures
# that change with every acceptance), and browsers must not guess content types.
SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _too_large(limit: int) -> ProblemException:
    """413, answered as `PAYLOAD_TOO_LARGE` by the error mapper: a limit of HTTP, not a rule."""
    return ProblemException(
        status=413, title="Payload Too Large", detail=f"The request body must be at most {limit} bytes."
    )


def gateway_request_id(event: object) -> str | None:
    """API Gateway's own id for a Lambda event, so gateway and service logs agree."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) and request_id else None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = gateway_request_id(scope.get("aws.event")) or uuid.uuid4().hex
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, self._limited(scope, receive), send_with_id)
        finally:
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            # A retry and the request it repeats share their key: the log ties them together.
            key = Headers(scope=scope).get("idempotency-key")
            if key is not None:
                fields["idempotency_key"] = key[:255]
            access_log.info("request", extra=fields)
            unbind_request_id(token)

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        """A receive channel that refuses bodies over the limit, declared or streamed."""
        limit = self.max_body_bytes
        declared = Headers(scope=scope).get("content-length", "")
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
            return message

        return receive_limited


class CorsMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with refused preflights in the contract's error shape."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {k: v for k, v in response.headers.items() if k.startswith("access-control-")}
        return Response(
            error_body("ACCESS_DENIED", f"CORS preflight refused: {bytes(response.body).decode()}."),
            status_code=STATUS_BY_CODE["ACCESS_DENIED"],
            media_type="application/json",
            headers={**headers, "Vary": response.headers.get("vary", "Origin")},
        )
