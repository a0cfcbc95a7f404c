"""Proof that a user owns their email address: a single-use token sent to it.

Until an account proves its address it can log in but not lend or borrow, and no invitation
is attached to it: otherwise whoever registered an address first would see, and could fund,
every loan its owner is invited to. The token is a `SecretToken`: only its hash is stored.
"""

import math

from .errors import DomainError

TOKEN_TTL_SECONDS = 24 * 3600
RESEND_INTERVAL_SECONDS = 60


class InvalidVerificationToken(DomainError):
    code = "INVALID_VERIFICATION_TOKEN"


class EmailNotVerified(DomainError):
    code = "EMAIL_NOT_VERIFIED"


class EmailAlreadyVerified(DomainError):
    code = "EMAIL_ALREADY_VERIFIED"


class ResendTooSoon(DomainError):
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, retry_after: int):
        super().__init__(f"A verification email was sent less than a minute ago; try again in {retry_after} seconds.")
        self.retry_after = retry_after


def check_unexpired(expires_at: float, now: float) -> None:
    """DynamoDB's TTL deletes expired items only eventually, so expiry is checked here."""
    if expires_at <= now:
        raise InvalidVerificationToken("This verification link has expired; ask for a new one.")


def resend_allowed_after(sent_at: float, now: float) -> int:
    """Seconds until another verification email may be sent (0: now)."""
    return max(0, math.ceil(sent_at + RESEND_INTERVAL_SECONDS - now))


def resend_refusal(verified: bool, sent_at: float, now: float) -> DomainError:
    """Why a new verification email is not sent: the address is verified, or the last email
    went out less than a minute ago."""
    if verified:
        return EmailAlreadyVerified("This email address is verified already.")
    return ResendTooSoon(max(1, resend_allowed_after(sent_at, now)))


def require_verified(verified: bool) -> None:
    if not verified:
        raise EmailNotVerified(
            "Verify your email address first: follow the link we sent you "
            "(POST /auth/resend-verification sends a new one)."
        )
