"""The service layer: what a user can do, each use case a method of a small service that
gets its ports (storage, vault, mailer, clock, passwords, tokens) when it is made, in
`service.bootstrap`."""

import uuid

from ..domain.errors import InvalidToken, StoreUnavailable
from ..domain.throttling import LoginThrottle
from ..domain.users import User
from .ports import CALLER
from .repositories import Logins


def new_id() -> str:
    return str(uuid.uuid4())


def too_busy(thing: str) -> StoreUnavailable:
    """What a use case answers when each of its attempts lost a race for `thing`: 503, and a
    retry later may win."""
    return StoreUnavailable(f"The {thing} is too busy right now; please retry.")


def existing(user: User | None) -> User:
    """The caller, who must still exist (a signed token can outlive its user) and must not
    have revoked the token since it was issued (a logout, a new password): checked here, on
    the read of the user every authenticated operation makes anyway."""
    if user is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
    caller = CALLER.get()
    if caller is not None and caller.user_id == user.user_id and caller.token_version != user.token_version:
        raise InvalidToken("The bearer token was revoked; refresh it or log in again.")
    return user


def count_attempt(counter: Logins, throttle: LoginThrottle, email: str, now: float) -> int:
    """Count one attempt for `email` before anything is checked (see `domain.throttling`), or
    refuse it: its number in the window."""
    attempt, window_ends = counter.reserve_login_attempt(
        email, now, throttle.max_failures, throttle.window_seconds, throttle.forget_after(now)
    )
    if attempt is None:
        raise throttle.refuse(window_ends, now)
    return attempt
