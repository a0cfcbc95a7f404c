"""Registering, logging in, and activating the invitations waiting for an email."""

import time
from dataclasses import dataclass, replace

from .. import security
from ..config import Settings
from ..domain.errors import InvalidCredentials, InvalidEmail, InvalidToken
from ..domain.messages import verification_email
from ..domain.users import User, check_password, clean_name, normalize_email, trim
from ..domain.verification import VerificationToken
from ..store import SesMailer, Store
from . import new_id, utc_now


@dataclass(frozen=True)
class Session:
    user: User
    token: str
    expires_in: int


def register(store: Store, mailer: SesMailer, config: Settings, name: str, email: str, password: str,
             now: float | None = None) -> Session:
    """A new account, with a token; unverified (and sent a verification email) unless its
    domain is verified on registration, in which case waiting invitations attach at once."""
    now = time.time() if now is None else now
    address = normalize_email(email)
    verified = config.verified_on_registration(address)
    user = User(user_id=new_id(), email=address, name=clean_name(name), created_at=utc_now(),
                email_verified=verified)
    verification = None if verified else VerificationToken.issue(now)
    store.create_user(user, security.hash_password(check_password(password), config.bcrypt_rounds), verification)
    if verification is None:
        return session(config, activate_invitations(store, user))
    mailer.send(verification_email(user.email, user.name, config.app_base_url, verification.token))
    return session(config, user)


def login(store: Store, config: Settings, email: str, password: str,
          now: float | None = None) -> Session:
    throttle, now = config.login_throttle, time.time() if now is None else now
    try:
        email = normalize_email(email)
    except InvalidEmail:
        email = trim(email, "email").lower()  # answered exactly like an unknown address
    attempt, window_ends = store.reserve_login_attempt(
        email, now, throttle.max_failures, throttle.window_seconds, throttle.forget_after(now)
    )
    if attempt is None:
        raise throttle.refuse(window_ends, now)
    user, password_hash = store.find_login(email) or (None, None)
    if not security.check_password(password, password_hash, config.bcrypt_rounds):
        if throttle.locks_after(attempt):
            store.lock_login(email, throttle.lock_until(now), throttle.forget_after(now))
        raise InvalidCredentials("Email or password is incorrect.")
    store.release_login_attempt(email)
    return session(config, activate_invitations(store, user) if user.email_verified else user)


def activate_invitations(store: Store, user: User) -> User:
    """Invitations sent to the user's email before they had a verified account become
    theirs. Only for verified users: the caller checks."""
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


def session(config: Settings, user: User) -> Session:
    roles = {"borrower": user.is_borrower, "lender": user.is_lender}
    return Session(user, security.issue_token(config, user.user_id, roles), config.token_ttl_seconds)
