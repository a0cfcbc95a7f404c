"""The one error shape, `{error, message, details?, request_id}`, for every failure:
business rules, Connexion's validation and security, routing, and the unexpected."""

import json
import logging
import re
from decimal import Decimal
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from ..domain.errors import DomainError
from ..logs import current_request_id
from .routing import allowed_methods

logger = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "INVALID_INPUT": 400,
    "INVALID_AMOUNT": 400,
    "INVALID_EMAIL": 400,
    "INVALID_VERIFICATION_TOKEN": 400,
    "RESET_TOKEN_INVALID": 400,
    "DOCUMENT_MISMATCH": 400,
    "INVALID_CREDENTIALS": 401,
    "INVALID_TOKEN": 401,
    "REFRESH_TOKEN_INVALID": 401,
    "REFRESH_TOKEN_REUSED": 401,
    "ACCESS_DENIED": 403,
    "INSUFFICIENT_ROLE": 403,
    "EMAIL_NOT_VERIFIED": 403,
    "INVALID_CURRENT_PASSWORD": 403,
    "LOAN_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "DOCUMENT_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "USER_EXISTS": 409,
    "ALREADY_ACCEPTED": 409,
    "LOAN_FULLY_FUNDED": 409,
    "EMAIL_ALREADY_VERIFIED": 409,
    "INVALID_STATE": 409,
    "INVITATION_DECLINED": 409,
    "LOAN_EXPIRED": 409,
    "IDEMPOTENCY_KEY_IN_USE": 409,
    "DOCUMENT_LIMIT_REACHED": 409,
    "DOCUMENT_NOT_UPLOADED": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "TOO_MANY_ATTEMPTS": 429,
    "INTERNAL_ERROR": 500,
    "DATABASE_ERROR": 503,
}

# What Connexion's and Starlette's own errors become, by HTTP status.
_CODE_BY_STATUS = {
    400: ("INVALID_INPUT", None),
    401: ("INVALID_TOKEN", "The bearer token is missing or invalid."),
    403: ("ACCESS_DENIED", "Access denied."),
    404: ("NOT_FOUND", "There is no such resource."),
    405: ("METHOD_NOT_ALLOWED", "This method is not allowed on this resource."),
    413: ("PAYLOAD_TOO_LARGE", "The request body is too large."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The request body must be application/json."),
}


def _json_value(value: object) -> object:
    """Money (a `Decimal`) in `details` is a JSON number, as in every other body; anything
    else unexpected there is text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def error_body(code: str, message: str, details: Any = None) -> bytes:
    body: dict[str, Any] = {"error": code, "message": message, "request_id": current_request_id()}
    if details is not None:
        body["details"] = details
    return json.dumps(body, default=_json_value).encode()


def error_response(
    code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=STATUS_BY_CODE[code],
        mimetype="application/json",
        body=error_body(code, message, details),
        headers=headers,
    )


def error_parts(exc: DomainError) -> tuple[int, bytes, dict[str, str]]:
    """A business error's status, body and headers."""
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return STATUS_BY_CODE[exc.code], error_body(exc.code, exc.message, exc.details), headers


async def _domain_error(_request: ConnexionRequest, exc: DomainError) -> ConnexionResponse:
    if exc.code == "DATABASE_ERROR":
        logger.error("store failure: %s", exc.message, exc_info=exc.__cause__)
    status, body, headers = error_parts(exc)
    return ConnexionResponse(status_code=status, mimetype="application/json", body=body, headers=headers or None)


async def _http_error(
    request: ConnexionRequest, exc: HTTPException, allow: list[tuple[re.Pattern[str], str]]
) -> ConnexionResponse:
    status = getattr(exc, "status", None) or exc.status_code
    if status >= 500:
        logger.error("framework error %s: %s", status, exc.detail)
        return error_response("INTERNAL_ERROR", "An unexpected error occurred.")
    code, message = _CODE_BY_STATUS.get(status, ("INVALID_INPUT", None))
    # Connexion's problems say exactly what is wrong ("'amount' is a required property",
    # "No authorization token provided"); Starlette's routing errors only repeat the phrase.
    detail = exc.detail if isinstance(exc, ProblemException) and isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})  # e.g. Allow on a 405, which `allow` corrects
    if status == 405:
        headers["Allow"] = next((methods for path, methods in allow if path.match(request.url.path)), "")
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(code, detail or message or "The request is not valid.", headers=headers)


async def _unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("unhandled error", exc_info=exc)
    return error_response("INTERNAL_ERROR", "An unexpected error occurred.")


def register_error_handlers(app: AsyncApp, spec: dict[str, Any]) -> None:
    allow = allowed_methods(spec)

    async def http_error(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        return await _http_error(request, exc, allow)

    app.add_error_handler(DomainError, _domain_error)
    # ProblemException subclasses HTTPException; Connexion registers its own handler for it,
    # which must be replaced too.
    app.add_error_handler(ProblemException, http_error)
    app.add_error_handler(HTTPException, http_error)
    app.add_error_handler(Exception, _unexpected)
