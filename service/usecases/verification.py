"""Proving an email address: spending the emailed token, and sending a new one."""

import time
from dataclasses import replace

from ..config import Settings
from ..domain.messages import verification_email
from ..domain.verification import (
    RESEND_INTERVAL_SECONDS,
    EmailAlreadyVerified,
    InvalidVerificationToken,
    ResendTooSoon,
    VerificationToken,
    check_unexpired,
    resend_allowed_after,
    token_hash,
)
from ..store import SesMailer, Store
from .accounts import Session, activate_invitations, current_user, session

_NOT_VALID = "This verification link is not valid: it may have been used, or replaced by a newer one."


def verify_email(store: Store, config: Settings, token: object, now: float | None = None) -> Session:
    """Mark the token's user verified, attach the invitations waiting for their email, and
    log them in."""
    now = time.time() if now is None else now
    if not isinstance(token, str):
        raise InvalidVerificationToken(_NOT_VALID)
    hashed = token_hash(token)
    found = store.find_verification(hashed)
    if found is None:
        raise InvalidVerificationToken(_NOT_VALID)
    user_id, expires_at = found
    check_unexpired(expires_at, now)
    user = store.get_user(user_id)
    if user is None or not store.confirm_email(user, hashed):
        raise InvalidVerificationToken(_NOT_VALID)
    return session(config, activate_invitations(store, replace(user, email_verified=True)))


def resend_verification(store: Store, mailer: SesMailer, config: Settings, user_id: str,
                        now: float | None = None) -> None:
    """A new verification email (the previous link stops working), at most one a minute."""
    now = time.time() if now is None else now
    user = current_user(store, user_id)
    if user.email_verified:
        raise EmailAlreadyVerified("This email address is verified already.")
    verification = VerificationToken.issue(now)
    renewed, sent_at = store.renew_verification(user_id, verification, sent_before=now - RESEND_INTERVAL_SECONDS)
    if not renewed:
        if sent_at == float("inf"):
            raise EmailAlreadyVerified("This email address is verified already.")
        raise ResendTooSoon(max(1, resend_allowed_after(sent_at, now)))
    mailer.send(verification_email(user.email, user.name, config.app_base_url, verification.token))
