"""The notifier, on the loan events table's stream (a DynamoDB stream event source mapping):

    Handler: service.lambdas.notifier.handler

Each new event becomes the notifications (and invitation emails) it calls for. A record whose
handling fails is reported back (`batchItemFailures`), so Lambda retries it and what follows;
what was done before is not done twice (see `usecases.notifications`)."""

from typing import Any

from ..bootstrap import Services
from ..store.events import from_stream
from .worker import logger, services


def notify(app: Services, records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Handle a batch of stream records; the ones to deliver again (from the first failure)."""
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # events are only ever put
        change = record["dynamodb"]
        try:
            app.notifications.handle(from_stream(change["NewImage"]))
        except Exception:
            logger.exception("event not notified", extra={"sequence_number": change.get("SequenceNumber")})
            return [{"itemIdentifier": change["SequenceNumber"]}]  # Lambda retries from here on
    return []


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": notify(services(), event.get("Records", []))}
