"""Registering, logging in, and activating the invitations waiting for an email."""

import time
from dataclasses import dataclass, replace

from .. import security
from ..config import Settings
from ..domain.errors import InvalidCredentials, InvalidEmail, InvalidToken
from ..domain.users import User, clean_name, normalize_email, trim
from ..store import Store
from . import new_id, utc_now


@dataclass(frozen=True)
class Session:
    user: User
    token: str
    expires_in: int


def register(store: Store, config: Settings, name: str, email: str, password: str) -> Session:
    user = User(
        user_id=new_id(),
        email=normalize_email(email),
        name=clean_name(name),
        created_at=utc_now(),
    )
    store.create_user(user, security.hash_password(password, config.bcrypt_rounds))
    return _session(config, activate_invitations(store, user))


def login(store: Store, config: Settings, email: str, password: str,
          now: float | None = None) -> Session:
    throttle, now = config.login_throttle, time.time() if now is None else now
    try:
        email = normalize_email(email)
    except InvalidEmail:
        email = trim(email).lower()  # answered exactly like an unknown address
    window = throttle.window(now)
    failures, locked_until = store.login_throttle_state(email, window)
    throttle.check(locked_until, now)
    user, password_hash = store.find_login(email) or (None, None)
    if not security.check_password(password, password_hash, config.bcrypt_rounds):
        if throttle.locks_after(store.count_login_failure(email, window, throttle.forget_after(now))):
            store.lock_login(email, throttle.lock_until(now), throttle.forget_after(now))
        raise InvalidCredentials("Email or password is incorrect.")
    if failures:
        store.clear_login_failures(email, window)
    return _session(config, activate_invitations(store, user))


def activate_invitations(store: Store, user: User) -> User:
    """Invitations sent to the user's email before they had an account become theirs."""
    activated = [
        store.activate_invitation(invitation, user, utc_now())
        for invitation in store.pending_invitations(user.email)
    ]
    return replace(user, is_lender=True) if any(activated) else user


def profile(store: Store, user_id: str) -> User:
    return current_user(store, user_id)


def current_user(store: Store, user_id: str) -> User:
    user = store.get_user(user_id)
    if user is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
    return user


def _session(config: Settings, user: User) -> Session:
    roles = {"borrower": user.is_borrower, "lender": user.is_lender}
    return Session(user, security.issue_token(config, user.user_id, roles), config.token_ttl_seconds)
