"""The AWS Lambda entry point: the Connexion app behind Mangum, set up once per process.

    Handler: service.lambdas.http.handler

**Adapter: Mangum** (`lifespan="off"`), not serverless-wsgi. Connexion 3 is an ASGI app, so
serverless-wsgi would need a2wsgi in front of it to turn it back into WSGI. Measured on the same
app and events (REST API events, moto for DynamoDB, 600 calls each, two runs):

- per-request overhead with no I/O (an unknown route, answered by the app itself): median
  0.17-0.19 ms with Mangum against 0.44-0.62 ms with serverless-wsgi + a2wsgi, p90 0.23-0.29
  against 0.78-0.95 ms: a2wsgi runs the ASGI app on an event loop in a second thread and
  hands every request and response across threads; Mangum runs it on this thread's loop;
- Mangum puts the Lambda event in the ASGI scope (`aws.event`), so the request id of every
  response and log line is API Gateway's own `requestContext.requestId`
  (`middleware.gateway_request_id`); through a2wsgi the event is only in the WSGI environ
  and the service would mint a different id;
- serverless-wsgi prefixes paths with the stage when the Host is `*.execute-api.*`, one
  more translation to get right; Mangum passes the path API Gateway routed on;
- the cost is equal or in Mangum's favour elsewhere: +3 ms of imports against +0.5 ms
  (werkzeug is already imported by Connexion), one small pure-Python package.

`lifespan="off"`: with "auto" or "on" Mangum runs the ASGI lifespan startup *and shutdown*
around every invocation.

**Init.** Importing this module is Lambda's init phase: it reads the settings (and, when
`JWT_KEYS_SECRET_ID` is set, the signing keys and the derivation root from Secrets Manager),
creates the boto3 clients, builds the app as a Lambda function runs it
(`create_app(lambda_function=True)`: handlers on the event loop, no Swagger UI layer, no second
check of the spec) and the adapter, and then runs one ASGI lifespan cycle through the app.
Connexion (like Starlette) builds its middleware stack (routing, security, validation for
every operation of the spec) on the first ASGI event it receives, and lifespan startup is the
event servers send for exactly this; under Mangum with lifespan off it would otherwise happen
inside the first request. The app registers no lifespan handlers, so the cycle's only effect
is that build, and it touches neither DynamoDB nor the access log.

**Failures.** The handler never raises and never returns a stack trace. If init fails (a
missing `TABLE_PREFIX` or secret, an unreadable Secrets Manager secret), the reason is logged as one
JSON line (`Lambda init failed: ...`, level CRITICAL; no traceback for a configuration error)
and the request gets `500 INTERNAL_ERROR` in the contract's error shape. Each invocation
tries init again (logging the failure with its request id), so a transient failure (Secrets
Manager throttling, a secret created after the deploy) heals without a redeploy.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from mangum import Mangum

from ..config import ConfigError
from ..http.errors import error_body
from ..http.middleware import gateway_request_id
from ..logs import bind_request_id, configure_logging, unbind_request_id

logger = logging.getLogger("service.lambda")

app: Any = None  # the Connexion app, once init succeeds
services: Any = None  # what the composition root built for it
adapter: Mangum | None = None
init_error: str | None = None
init_seconds: float | None = None


def _warm_up(asgi_app: Any) -> None:
    """On the adapter's event loop: one ASGI lifespan cycle (startup, shutdown) through the app."""

    async def cycle() -> list[str]:
        incoming = iter(({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}))
        sent: list[str] = []

        async def receive() -> dict[str, Any]:
            return next(incoming)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])

        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        await asgi_app(scope, receive, send)
        return sent

    sent = asyncio.get_event_loop().run_until_complete(cycle())
    if sent != ["lifespan.startup.complete", "lifespan.shutdown.complete"]:
        raise RuntimeError(f"the app's lifespan cycle did not complete: {sent}")


def init() -> bool:
    """Build the app and the adapter; on failure log why and remember it. True if ready."""
    global app, services, adapter, init_error, init_seconds
    started = time.perf_counter()
    try:
        from ..bootstrap import bootstrap
        from ..http.app import create_app

        built_services = bootstrap()
        built = create_app(built_services, lambda_function=True)
        # Mangum logs each request at INFO; the service's access log line already does, with
        # the request id and duration.
        logging.getLogger("mangum.http").setLevel(logging.WARNING)
        wrapped = Mangum(built, lifespan="off")  # sets up the event loop it runs requests on
        _warm_up(built)
    except ConfigError as exc:
        _init_failed(str(exc), exc, with_traceback=False)
        return False
    except Exception as exc:  # anything else: log the traceback, still answer cleanly
        _init_failed(f"{type(exc).__name__}: {exc}", exc, with_traceback=True)
        return False
    app, services, adapter, init_error = built, built_services, wrapped, None
    init_seconds = time.perf_counter() - started
    logger.info("Lambda init complete", extra={"init_ms": round(init_seconds * 1000, 1)})
    return True


def _init_failed(reason: str, exc: Exception, with_traceback: bool) -> None:
    global init_error
    init_error = reason
    configure_logging("INFO")  # the settings that name the level may be what failed
    logger.critical(
        "Lambda init failed: %s",
        reason,
        exc_info=exc if with_traceback else None,
        extra={"error_type": type(exc).__name__},
    )


def _request_id(event: Any) -> str:
    return gateway_request_id(event) or uuid.uuid4().hex


def _error_response(request_id: str, message: str) -> dict[str, Any]:
    """`500 INTERNAL_ERROR` in the contract's error shape, for either payload version."""
    token = bind_request_id(request_id)
    try:
        body = error_body("INTERNAL_ERROR", message).decode()
    finally:
        unbind_request_id(token)
    return {
        "statusCode": 500,
        "headers": {"content-type": "application/json", "x-request-id": request_id},
        "body": body,
        "isBase64Encoded": False,
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda's entry point, for API Gateway REST (v1) and HTTP API (v2) proxy events."""
    if adapter is None:
        request_id = _request_id(event)
        token = bind_request_id(request_id)  # the retry's log line names this request
        try:
            ready = init()
        finally:
            unbind_request_id(token)
        if not ready:
            return _error_response(request_id, "The service is unavailable; please retry later.")
    try:
        assert adapter is not None  # init() succeeded
        return dict(adapter(event, context))
    except Exception:  # e.g. an event from something that is not API Gateway
        request_id = _request_id(event)
        token = bind_request_id(request_id)
        try:
            logger.exception("The Lambda adapter could not handle the event")
        finally:
            unbind_request_id(token)
        return _error_response(request_id, "An unexpected error occurred.")


init()
