"""Sessions: starting one at login, refreshing it (rotation, reuse detection), ending it
(see `domain.sessions`)."""

from dataclasses import dataclass

from ..config import Settings
from ..domain.errors import StoreUnavailable
from ..domain.secret_tokens import SecretToken, token_hash
from ..domain.sessions import (
    REFRESH_TTL_SECONDS,
    REUSE_GRACE_SECONDS,
    Family,
    RefreshTokenInvalid,
    RefreshTokenReused,
    Verdict,
    judge,
)
from ..domain.users import User
from . import new_id
from .ports import Clock, LostRace, Storage, TokenIssuer, UnitOfWork

# Concurrent refreshes of one token conflict in DynamoDB; each loser decides again.
ATTEMPTS = 5


@dataclass(frozen=True)
class Session:
    user: User
    token: str
    expires_in: int
    refresh_token: str


class SessionService:
    def __init__(self, store: Storage, tokens: TokenIssuer, clock: Clock, settings: Settings):
        self.store = store
        self.tokens = tokens
        self.clock = clock
        self.settings = settings

    def start(self, uow: UnitOfWork, user: User) -> Session:
        """A new session for `user`, its writes queued on `uow` (which the caller commits)."""
        now = self.clock.now()
        family = Family(new_id(), user.user_id, user.session_version)
        refresh = SecretToken.issue(now, REFRESH_TTL_SECONDS)
        uow.sessions.start(family, refresh)
        return self._session(user, family.family_id, refresh, now)

    def refresh(self, token: object) -> Session:
        """A new pair for a refresh token, which is spent; a spent one ends its session."""
        if not isinstance(token, str):
            raise RefreshTokenInvalid()
        hashed = token_hash(token)
        for _ in range(ATTEMPTS):
            now = self.clock.now()
            uow = self.store.unit_of_work()
            stored, family = uow.sessions.find(hashed)
            user = uow.users.get(stored.user_id) if stored else None
            verdict = judge(stored, family, user.session_version if user else None, now)
            if verdict is Verdict.REUSED:
                self._revoke(uow, family)
                raise RefreshTokenReused()
            if verdict is Verdict.INVALID or user is None or family is None:
                raise RefreshTokenInvalid()
            refresh = SecretToken.issue(now, REFRESH_TTL_SECONDS)
            uow.sessions.rotate(hashed, family, refresh, grace_start=now - REUSE_GRACE_SECONDS)
            session = self._session(user, family.family_id, refresh, now)
            try:
                uow.commit(session)
            except LostRace:
                continue  # spent, revoked or refreshed meanwhile: judge again
            return session
        raise StoreUnavailable("The data store is too busy; please retry.")

    def logout(self, token: object) -> None:
        """End the refresh token's session and refuse the user's access tokens issued so far.
        A token that is unknown has no session left to end."""
        hashed = token_hash(token) if isinstance(token, str) else None
        for _ in range(ATTEMPTS):
            uow = self.store.unit_of_work()
            stored, family = uow.sessions.find(hashed) if hashed else (None, None)
            if stored is None or uow.users.get(stored.user_id) is None:
                return
            if family is not None and not family.revoked:
                uow.sessions.revoke(family.family_id)
            uow.credentials.revoke_access(stored.user_id)
            try:
                uow.commit(None)
            except LostRace:
                continue  # the family or the user went meanwhile
            return
        raise StoreUnavailable("The data store is too busy; please retry.")

    def _revoke(self, uow: UnitOfWork, family: Family | None) -> None:
        if family is None or family.revoked:
            return
        uow.sessions.revoke(family.family_id)
        try:
            uow.commit()
        except LostRace:
            pass  # the family expired meanwhile: nothing is left to revoke

    def _session(self, user: User, family_id: str, refresh: SecretToken, now: float) -> Session:
        access = self.tokens.issue(user, now, family_id)
        return Session(user, access, self.settings.token_ttl_seconds, refresh.token)
