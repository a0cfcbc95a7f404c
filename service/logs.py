"""Structured JSON logs, each line stamped with the id of the request it belongs to."""

import contextvars
import logging
import sys
from collections.abc import Callable
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str) -> contextvars.Token[str | None]:
    return _request_id.set(request_id)


def unbind_request_id(token: contextvars.Token[str | None]) -> None:
    _request_id.reset(token)


class _RequestIdStamper:
    """A log record factory: every record carries the current request id, whichever handler
    formats it."""

    def __init__(self, factory: Callable[..., logging.LogRecord]):
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        record.request_id = current_request_id()
        return record


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}{request_id}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(level: str) -> None:
    """JSON lines on stdout (Lambda forwards them to CloudWatch as they are)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stdout))
    if not isinstance(logging.getLogRecordFactory(), _RequestIdStamper):
        logging.setLogRecordFactory(_RequestIdStamper(logging.getLogRecordFactory()))
    for handler in root.handlers:
        handler.setFormatter(json_formatter())
    root.setLevel(level)
    # Connexion logs every validation failure; the access log already records the 4xx.
    logging.getLogger("connexion").setLevel(logging.ERROR)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
