"""The service layer: one function per thing a user can do, over the domain and the store."""

import uuid
from datetime import UTC, datetime


def utc_now() -> str:
    """ISO 8601 in UTC with microseconds: sorts as text, which the GSIs rely on."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())
