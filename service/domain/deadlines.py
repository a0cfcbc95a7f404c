"""Funding deadlines, and the timestamps they are compared as.

Every time the service stores is UTC in one ISO 8601 spelling with microseconds
(`2026-11-22T10:15:30.123456Z`), so comparing them as text compares them as times: DynamoDB's
conditions and indexes rely on that.
"""

from datetime import UTC, datetime, timedelta

from .errors import InvalidInput

DEFAULT_WINDOW = timedelta(days=30)
MAX_WINDOW = timedelta(days=90)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def at(epoch_seconds: float) -> str:
    return timestamp(datetime.fromtimestamp(epoch_seconds, UTC))


def funding_deadline(requested: object, now: float, min_window_seconds: int) -> str:
    """The deadline a new loan gets: `requested` (an RFC 3339 date-time with its offset)
    between `min_window_seconds` and 90 days from now, or 30 days from now if None."""
    start = datetime.fromtimestamp(now, UTC)
    if requested is None:
        return timestamp(start + DEFAULT_WINDOW)
    try:
        moment = datetime.fromisoformat(requested) if isinstance(requested, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            "'funding_deadline' must be a date-time with its offset, such as 2027-01-31T12:00:00Z.",
            {"field": "funding_deadline"},
        )
    earliest, latest = start + timedelta(seconds=min_window_seconds), start + MAX_WINDOW
    if not earliest <= moment <= latest:
        raise InvalidInput(
            f"'funding_deadline' must be between {timestamp(earliest)} and {timestamp(latest)}.",
            {"field": "funding_deadline", "minimum": timestamp(earliest), "maximum": timestamp(latest)},
        )
    return timestamp(moment)
