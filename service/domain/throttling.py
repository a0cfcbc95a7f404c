"""Login throttling: how many attempts an email gets, and for how long it is locked.

Each attempt is counted, atomically and in the table store, before its password is checked,
so a burst of parallel guesses gets no more password checks than the limit; a successful
login gives its attempt back, a failed one stays counted. Attempts are counted in a window
that opens at the first one; once it holds the limit, every further attempt is refused
until the window ends, and the failure that fills it extends it to a full lockout. The same
applies to emails with no account, so a lock reveals nothing about who is registered.
State lives in the table store, not in process memory, because Lambda runs many short-lived
processes.
"""

import math
from dataclasses import dataclass

from .errors import DomainError


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, retry_after: int, what: str = "failed logins"):
        super().__init__(f"Too many {what}; try again in {retry_after} seconds.")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginThrottle:
    max_failures: int = 5
    window_seconds: int = 900
    lockout_seconds: int = 900
    what: str = "failed logins"  # what is counted, for the refusal's message

    def refuse(self, window_ends: float, now: float) -> TooManyAttempts:
        """The refusal, saying how long to wait: at least a second, and never more than the
        policy's longest wait (a concurrent attempt may have stamped the lock a moment after
        this one started)."""
        longest = max(self.window_seconds, self.lockout_seconds)
        return TooManyAttempts(min(longest, max(1, math.ceil(window_ends - now))), self.what)

    def locks_after(self, attempts: int) -> bool:
        """Whether a failed attempt with this number fills the window."""
        return attempts >= self.max_failures

    def lock_until(self, now: float) -> float:
        return now + self.lockout_seconds

    def forget_after(self, now: float) -> int:
        """When the store may drop the counter (DynamoDB TTL, epoch seconds)."""
        return int(now) + self.window_seconds + self.lockout_seconds
