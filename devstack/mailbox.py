"""The local stand-in's outbox: the emails moto's SES accepted, to read, to serve and to print.

Tests in the moto process read it directly (`sent`, `verification_token`, `reset_token`); a process elsewhere
(the load test, the contract run) asks the local AWS endpoint, which serves it at
`GET /_local/mailbox?to=<address>` (`MailboxApp`). `make run` prints each email as it is sent
(`echo_to_console`), so a person can follow its links.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import SESBackend, ses_backends

REGION = "us-east-1"
# The sender the local stack verifies in SES; deployed stacks take theirs as a parameter.
LOCAL_SENDER = "no-reply@example.com"
PATH = "/_local/mailbox"
_echo_lock = threading.Lock()


def verify_sender(endpoint_url: str, address: str = LOCAL_SENDER) -> None:
    """Verify the sender identity in SES, as a deployment does once by hand (README)."""
    from devstack.aws import client

    client("sesv2", endpoint_url).create_email_identity(EmailIdentity=address)


def sent(to: str | None = None) -> list[dict[str, str]]:
    """Every email sent so far (to `to` only, if given), oldest first."""
    backend: SESBackend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [
        {"to": address, "from": message.source, "subject": message.subject, "text": message.body}
        for message in list(backend.sent_messages)
        for address in message.destinations.get("ToAddresses", [])
        if to is None or address.lower() == to.lower()
    ]


def token_in(emails: Iterable[dict[str, str]], page: str = "verify-email") -> str | None:
    """The token of the newest link to `page` (verify-email, reset-password) among `emails`."""
    link = re.compile(rf"/{page}\?token=([A-Za-z0-9_-]{{43}})\b")
    for email in reversed(list(emails)):
        match = link.search(email["text"])
        if match:
            return match.group(1)
    return None


def verification_token(to: str) -> str:
    return _newest_token(to, "verify-email")


def reset_token(to: str) -> str:
    return _newest_token(to, "reset-password")


def _newest_token(to: str, page: str) -> str:
    token = token_in(sent(to), page)
    if token is None:
        raise LookupError(f"no {page} email was sent to {to}")
    return token


def fetch(endpoint_url: str, to: str) -> list[dict[str, str]]:
    """`sent(to)` from another process, through the local AWS endpoint."""
    import httpx

    response = httpx.get(f"{endpoint_url}{PATH}?to={quote(to)}", timeout=30)
    response.raise_for_status()
    return response.json()["emails"]


class MailboxApp:
    """WSGI: answers `GET /_local/mailbox` itself, hands everything else to `app`."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self._app(environ, start_response)
        to = parse_qs(environ.get("QUERY_STRING", "")).get("to", [None])[0]
        body = json.dumps({"emails": sent(to)}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def echo_to_console(write: Callable[[str], Any] = sys.stdout.write) -> None:
    """From now on, print every email moto's SES accepts (recipient, subject, text)."""
    original = SESBackend.send_email
    if getattr(original, "echoes", False):
        return

    def send_email(self: SESBackend, *args: Any, **kwargs: Any) -> Any:
        message = original(self, *args, **kwargs)
        with _echo_lock:
            for address in message.destinations.get("ToAddresses", []):
                write(f"\n--- email to {address}: {message.subject}\n{message.body}---\n")
            sys.stdout.flush()
        return message

    send_email.echoes = True  # type: ignore[attr-defined]
    SESBackend.send_email = send_email  # type: ignore[method-assign]
