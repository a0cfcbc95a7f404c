"""Login throttling: how many failures lock an email out, and for how long.

Failures are counted per email in fixed windows; reaching the limit within one window locks
the email for a while. The same applies to emails with no account, so a lock reveals
nothing about who is registered. State lives in the table store, not in process memory,
because Lambda runs many short-lived processes.
"""

import math
from dataclasses import dataclass

from .errors import DomainError


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, retry_after: int):
        super().__init__(f"Too many failed logins; try again in {retry_after} seconds.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginThrottle:
    max_failures: int = 5
    window_seconds: int = 900
    lockout_seconds: int = 900

    def window(self, now: float) -> int:
        """The number of the counting window `now` falls in."""
        return int(now // self.window_seconds)

    def check(self, locked_until: float, now: float) -> None:
        """Refuse the attempt while the email is locked."""
        if locked_until > now:
            raise TooManyAttempts(max(1, math.ceil(locked_until - now)))

    def locks_after(self, failures: int) -> bool:
        return failures >= self.max_failures

    def lock_until(self, now: float) -> float:
        return now + self.lockout_seconds

    def forget_after(self, now: float) -> int:
        """When the store may drop a counter or lock (DynamoDB TTL, epoch seconds)."""
        return int(now) + self.window_seconds + self.lockout_seconds
