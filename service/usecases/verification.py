"""Proving an email address: spending the emailed token, and sending a new one."""

from dataclasses import replace

from ..config import Settings
from ..domain.messages import verification_email
from ..domain.secret_tokens import SecretToken, token_hash
from ..domain.verification import (
    RESEND_INTERVAL_SECONDS,
    TOKEN_TTL_SECONDS,
    EmailAlreadyVerified,
    InvalidVerificationToken,
    check_unexpired,
)
from . import existing
from .accounts import AccountService
from .ports import Clock, Mailer, Storage
from .sessions import Session

_NOT_VALID = "This verification link is not valid: it may have been used, or replaced by a newer one."


class VerificationService:
    def __init__(self, store: Storage, accounts: AccountService, mailer: Mailer, clock: Clock, settings: Settings):
        self.store = store
        self.accounts = accounts
        self.mailer = mailer
        self.clock = clock
        self.settings = settings

    def verify(self, token: object) -> Session:
        """Mark the token's user verified, attach the invitations waiting for their email, and
        log them in."""
        if not isinstance(token, str):
            raise InvalidVerificationToken(_NOT_VALID)
        hashed = token_hash(token)
        uow = self.store.unit_of_work()
        found = uow.users.find_verification(hashed)
        if found is None:
            raise InvalidVerificationToken(_NOT_VALID)
        user_id, expires_at = found
        check_unexpired(expires_at, self.clock.now())
        user = uow.users.get(user_id)
        if user is None:
            raise InvalidVerificationToken(_NOT_VALID)
        uow.users.confirm_email(user, hashed)
        return self.accounts.commit_verified(uow, replace(user, email_verified=True))

    def resend(self, user_id: str) -> None:
        """A new verification email (the previous link stops working), at most one a minute."""
        now = self.clock.now()
        uow = self.store.unit_of_work()
        user = existing(uow.users.get(user_id))
        if user.email_verified:
            raise EmailAlreadyVerified("This email address is verified already.")
        verification = SecretToken.issue(now, TOKEN_TTL_SECONDS)
        uow.users.renew_verification(user_id, verification, sent_before=now - RESEND_INTERVAL_SECONDS)
        uow.commit(None)
        self.mailer.send(verification_email(user.email, user.name, self.settings.app_base_url, verification.token))
