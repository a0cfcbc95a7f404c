"""The system clock (`usecases.ports.Clock`); tests give the use cases others."""

import time
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> float:
        return time.time()

    def timestamp(self) -> str:
        """`now()` as the ISO 8601 UTC timestamp stored and served (microseconds, `Z`)."""
        return datetime.fromtimestamp(self.now(), UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
