"""Structured JSON logs, each line stamped with the id of the request it belongs to."""

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str) -> contextvars.Token:
    return _request_id.set(request_id)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def _stamp_request_id(factory):
    """Every log record carries the current request id, whichever handler formats it."""

    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    make_record.stamps_request_id = True
    return make_record


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
    if not getattr(logging.getLogRecordFactory(), "stamps_request_id", False):
        logging.setLogRecordFactory(_stamp_request_id(logging.getLogRecordFactory()))
    for handler in root.handlers:
        handler.setFormatter(json_formatter())
    root.setLevel(level)
    # Connexion logs every validation failure; the access log already records the 4xx.
    logging.getLogger("connexion").setLevel(logging.ERROR)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
