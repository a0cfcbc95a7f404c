"""Forgetting, resetting and changing a password (see `domain.password_reset`)."""

import time

from ..config import Settings
from ..domain.errors import StoreUnavailable
from ..domain.messages import password_reset_email
from ..domain.password_reset import (
    ANSWER_AFTER_SECONDS,
    RESET_THROTTLE,
    RESET_TTL_SECONDS,
    InvalidCurrentPassword,
    ResetTokenInvalid,
)
from ..domain.secret_tokens import SecretToken, token_hash
from ..domain.users import check_password, normalize_email
from . import count_attempt, existing
from .ports import CALLER, Clock, LostRace, Mailer, Passwords, Storage


class PasswordService:
    def __init__(self, store: Storage, passwords: Passwords, mailer: Mailer, clock: Clock, settings: Settings):
        self.store = store
        self.passwords = passwords
        self.mailer = mailer
        self.clock = clock
        self.settings = settings

    def forgot(self, email: object) -> None:
        """Email a reset link if an account has this address; answer alike, and no sooner than
        `ANSWER_AFTER_SECONDS` after starting, either way."""
        address = normalize_email(email)
        started = time.monotonic()
        try:
            self._send_reset(address)
        finally:
            time.sleep(max(0.0, ANSWER_AFTER_SECONDS - (time.monotonic() - started)))

    def _send_reset(self, address: str) -> None:
        uow = self.store.unit_of_work()
        count_attempt(uow.reset_requests, RESET_THROTTLE, address, self.clock.now())
        found = uow.users.find_login(address)
        if found is None:
            return
        user, _ = found
        reset = SecretToken.issue(self.clock.now(), RESET_TTL_SECONDS)
        uow.credentials.renew_reset(user.user_id, reset)
        uow.commit(None)
        self.mailer.send(password_reset_email(user.email, user.name, self.settings.app_base_url, reset.token))

    def reset(self, token: object, new_password: object) -> None:
        """Spend the reset token and set the new password; every session of the user ends."""
        if not isinstance(token, str):
            raise ResetTokenInvalid()
        hashed = token_hash(token)
        uow = self.store.unit_of_work()
        found = uow.credentials.find_reset(hashed)
        if found is None:
            raise ResetTokenInvalid()
        user_id, expires_at = found
        # DynamoDB's TTL deletes expired items only eventually.
        if expires_at <= self.clock.now():
            raise ResetTokenInvalid("This reset link has expired; ask for a new one.")
        user = uow.users.get(user_id)
        if user is None:
            raise ResetTokenInvalid()
        uow.credentials.reset_password(user, hashed, self.passwords.hash(check_password(new_password)))
        uow.commit(None)

    def change(self, user_id: str, current: str, new_password: object) -> None:
        """Set a new password, given the current one (a wrong one counts as a failed login).
        The other sessions end; the caller's (the one its token was issued to) is carried over."""
        throttle, now = self.settings.login_throttle, self.clock.now()
        uow = self.store.unit_of_work()
        found = uow.credentials.find_credentials(user_id)
        user = existing(found[0] if found else None)
        attempt = count_attempt(uow.logins, throttle, user.email, now)
        if not self.passwords.check(current, found[1] if found else None):
            if throttle.locks_after(attempt):
                uow.logins.lock_login(user.email, throttle.lock_until(now), throttle.forget_after(now))
            raise InvalidCurrentPassword()
        uow.logins.release_login_attempt(user.email)
        uow.credentials.change_password(user.user_id, self.passwords.hash(check_password(new_password)))
        caller = CALLER.get()
        family = uow.sessions.family(caller.session_id) if caller and caller.session_id else None
        if family is not None and family.user_id == user.user_id and family.live_for(user.session_version):
            uow.sessions.keep(family.family_id, user.session_version + 1)
        try:
            uow.commit(None)
        except LostRace:
            raise StoreUnavailable("The session changed meanwhile; please retry.") from None
