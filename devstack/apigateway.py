"""A stand-in for API Gateway in front of the Lambda handler: proxy events as API Gateway
sends them, and the handler's answer read back as an HTTP response.

``rest_event`` builds a REST API (payload 1.0) proxy event and ``http_event`` an HTTP API
(payload 2.0) one, each with only the fields API Gateway fills for a plain request; ``invoke``
calls a handler with one and decodes what it returns; ``lambda_handler_module`` imports the
handler module afresh, as Lambda's init does. Tests and the cold-start benchmark use them;
nothing here touches AWS.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

API_ID = "a1b2c3d4e5"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"


def _body_fields(
    body: Any, headers: dict[str, str], content_length: bool, base64_body: bool
) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded`, adding Content-Type/Length headers as a
    client would (API Gateway passes the client's headers through as they are)."""
    if body is None:
        return None, False
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if not isinstance(body, bytes):
        headers.setdefault("Content-Type", "application/json")
    if content_length:
        headers.setdefault("Content-Length", str(len(raw)))
    if base64_body:
        return base64.b64encode(raw).decode(), True
    return raw.decode(), False


def _request_id(request_id: str | None) -> str:
    return request_id or str(uuid.uuid4())


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    stage: str = "dev",
    request_id: str | None = None,
    content_length: bool = True,
    base64_body: bool = False,
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy event. `body` is JSON-encoded unless it is bytes;
    `resource` is the route's template (e.g. `/loans/{loan_id}`), `path` the actual path,
    without the stage (API Gateway keeps the stage in `requestContext`)."""
    headers = {
        "Host": HOST,
        "User-Agent": "test-client/1.0",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
        **(headers or {}),
    }
    encoded, is_base64 = _body_fields(body, headers, content_length, base64_body)
    request_id = _request_id(request_id)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource or path,
            "httpMethod": method,
            "extendedRequestId": request_id[:12] + "=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": headers["User-Agent"]},
            "domainName": HOST,
            "apiId": API_ID,
        },
        "body": encoded,
        "isBase64Encoded": is_base64,
    }


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    request_id: str | None = None,
    content_length: bool = True,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API (v2) Lambda proxy event on the `$default` stage (so `rawPath` has no
    stage prefix). Header names arrive lower-cased, as HTTP APIs send them."""
    headers = {
        "host": HOST,
        "user-agent": "test-client/1.0",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    encoded, is_base64 = _body_fields(body, headers, content_length, base64_body)
    headers = {k.lower(): v for k, v in headers.items()}
    request_id = _request_id(request_id)
    return {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": headers,
        **({"queryStringParameters": dict(query)} if query else {}),
        **({"pathParameters": path_parameters} if path_parameters else {}),
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": HOST,
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": headers["user-agent"],
            },
            "requestId": request_id,
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        **({"body": encoded} if encoded is not None else {}),
        "isBase64Encoded": is_base64,
    }


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that adapters and loggers read."""

    function_name: str = "marketplace-dev-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/marketplace-dev-api"
    log_stream_name: str = "2024/01/01/[$LATEST]0123456789abcdef"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Response:
    """What API Gateway would send the client, from the handler's result."""

    status: int
    headers: dict[str, str]
    body: bytes
    raw: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def invoke(
    handler: Callable[[dict, Any], dict], event: dict[str, Any], context: LambdaContext | None = None
) -> Response:
    """Call `handler` with `event` and read its result the way API Gateway does. Header
    names come back lower-cased (HTTP header names are case-insensitive)."""
    raw = handler(event, context or LambdaContext())
    headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
    for name, values in (raw.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(values)
    body = raw.get("body") or ""
    decoded = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode()
    return Response(status=raw["statusCode"], headers=headers, body=decoded, raw=raw)


@contextmanager
def lambda_handler_module(env: Mapping[str, str | None]) -> Iterator[ModuleType]:
    """`service.lambdas.http` imported afresh (its init runs again) with `env` applied to
    the environment (None unsets a variable), as in a new execution environment. Afterwards the
    environment, the root logger's level and formatters, and any previously imported handler
    module are put back, so other apps in this process keep their settings."""
    name = "service.lambdas.http"
    root = logging.getLogger()
    saved_logging = (root.level, [(handler, handler.formatter) for handler in root.handlers])
    saved_env = {key: os.environ.get(key) for key in env}
    saved_module = sys.modules.pop(name, None)

    def apply(values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    try:
        apply(env)
        yield importlib.import_module(name)
    finally:
        sys.modules.pop(name, None)
        if saved_module is not None:
            sys.modules[name] = saved_module
        apply(saved_env)
        root.setLevel(saved_logging[0])
        for handler, formatter in saved_logging[1]:
            handler.setFormatter(formatter)
