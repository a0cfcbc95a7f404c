"""Sessions: a short-lived access token (a JWT, `TOKEN_TTL_SECONDS`, 15 minutes by default)
and a long-lived refresh token that is spent when it is used.

Each login (or registration, or email verification) starts a *family*: the refresh token it
returns and every token a refresh of it returns, one after the other (rotation). A refresh
token is a `SecretToken` (only its hash is stored), valid `REFRESH_TTL_SECONDS` from when it
was issued. A spent token presented again means two parties hold it, a thief and its owner,
and the server cannot tell which one is asking: so the whole family is revoked, which ends
the session for both (`REFRESH_TOKEN_REUSED`). Except within `REUSE_GRACE_SECONDS` of its
first use, where it is answered with another new pair: two refreshes racing (two tabs, a
retried request whose answer was lost) are a client doing nothing wrong.

Ending every session of a user at once (a password change or reset) must not need a write
per family: the user carries `session_version`, each family the version it was started
under, and a family whose version is not the user's is over. Access tokens carry the user's
`token_version` (bumped by a logout, a password change and a reset), checked on the read of
the user every operation makes anyway (`usecases.existing`).
"""

from dataclasses import dataclass
from enum import Enum

from .errors import DomainError

REFRESH_TTL_SECONDS = 30 * 86400
# Long enough for requests sent at once, or a retry after a timeout, to all get through; short,
# because a stolen token used within it goes unnoticed.
REUSE_GRACE_SECONDS = 10


class RefreshTokenInvalid(DomainError):
    code = "REFRESH_TOKEN_INVALID"

    def __init__(self) -> None:
        super().__init__("This refresh token is not valid; log in again.")


class RefreshTokenReused(DomainError):
    code = "REFRESH_TOKEN_REUSED"

    def __init__(self) -> None:
        super().__init__("This refresh token was used before; the session is ended. Log in again.")


@dataclass(frozen=True)
class StoredRefresh:
    """A refresh token as stored: its family and user, when it expires and was spent."""

    family_id: str
    user_id: str
    expires_at: float
    spent_at: float | None = None


@dataclass(frozen=True)
class Family:
    family_id: str
    user_id: str
    version: int  # the user's `session_version` it was started under
    revoked: bool = False

    def live_for(self, session_version: int) -> bool:
        return not self.revoked and self.version == session_version


class Verdict(Enum):
    ROTATE = "rotate"
    REUSED = "reused"  # revoke the family, refuse
    INVALID = "invalid"


def judge(token: StoredRefresh | None, family: Family | None, session_version: int | None, now: float) -> Verdict:
    """What a refresh with this token gets. Reuse is judged first: a spent token says its
    family is compromised, whatever else holds."""
    if token is None:
        return Verdict.INVALID
    if token.spent_at is not None and now - token.spent_at > REUSE_GRACE_SECONDS:
        return Verdict.REUSED
    if family is None or session_version is None or not family.live_for(session_version):
        return Verdict.INVALID
    return Verdict.ROTATE if token.expires_at > now else Verdict.INVALID
