"""The scheduled expiry job (an EventBridge schedule, every few minutes):

    Handler: service.lambdas.expiry.handler

Writes EXPIRED, with its event, for every PENDING loan past its funding deadline. Reads show
such a loan expired at once; this makes storage agree. Safe to run twice or concurrently:
each loan is expired by a conditional transaction."""

from typing import Any

from .worker import logger, services


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    expired = services().expiry.expire_due()
    logger.info("expiry run", extra={"expired": expired})
    return {"expired": expired}
