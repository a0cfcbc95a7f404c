"""Bearer tokens: HS256 JWTs with a key id, so the signing key can rotate (`keys`)."""

import functools
import hashlib
import hmac
import re
from typing import Any

import jwt

from ..clock import SystemClock
from ..config import Settings
from ..domain.errors import InvalidToken
from ..domain.users import User
from ..usecases.ports import Clock
from .keys import FixedKeys, SigningKeys

ALGORITHM = "HS256"
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_USER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# A client sends the same token with every request, and verifying it again (header, HMAC,
# claims) costs 0.2-0.3 ms of CPU each time; so verified tokens are remembered, by their whole
# text (only the very token that was verified hits). Their times are checked on every use, on
# the injected clock, so a remembered token is refused once it expires. Refusals are not kept.
VERIFIED_TOKENS_KEPT = 1024


class JwtTokens:
    def __init__(self, settings: Settings, clock: Clock | None = None, keys: SigningKeys | None = None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._verify)
        self.keys = keys or FixedKeys.from_settings(settings)

    def issue(self, user: User, now: float, session_id: str) -> str:
        """A signed access token of the session `session_id`. Its roles are hints for the
        frontend; the server authorizes from stored state. `ver` is the user's token version,
        which a logout or a new password bumps (`domain.sessions`)."""
        config, issued = self.settings, int(now)
        roles = {"borrower": user.is_borrower, "lender": user.is_lender}
        claims = {
            "sub": user.user_id,
            "iss": config.jwt_issuer,
            "aud": config.jwt_audience,
            "iat": issued,
            "nbf": issued,
            "exp": issued + config.token_ttl_seconds,
            "roles": [role for role, held in roles.items() if held],
            "ver": user.token_version,
            "sid": session_id,
        }
        key = self.keys.signing_key()
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"})

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of `token`, or `InvalidToken`."""
        claims, kid = self._verified(token)
        self._check_times(claims)  # on every use, on the injected clock: never remembered
        # ... and its key: a token remembered from before a rotation retired its key is refused.
        if self.keys.verification_key(kid) is None:
            raise InvalidToken("The bearer token is not valid.")
        return dict(claims)

    def _verify(self, token: str) -> tuple[dict[str, Any], str]:
        """The signature, header and claims of `token`, checked, and its key id; its times
        are not."""
        config = self.settings
        if not _COMPACT_JWS.fullmatch(token):  # one spelling per token: no padding, no junk
            raise InvalidToken("The bearer token is not valid.")
        try:
            header = jwt.get_unverified_header(token)
            kid = str(header.get("kid"))
            key = self.keys.verification_key(kid)
            if key is None or header.get("alg") != ALGORITHM or header.get("typ", "JWT") != "JWT":
                raise InvalidToken("The bearer token is not valid.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=config.jwt_audience,
                issuer=config.jwt_issuer,
                # The times are checked in `verify`, on the clock every other decision uses.
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            raise InvalidToken("The bearer token is not valid.") from None
        if not isinstance(claims.get("sub"), str) or not _USER_ID.fullmatch(claims["sub"]):
            raise InvalidToken("The bearer token is not valid.")
        version = claims.get("ver", 0)  # tokens issued before versions existed carry none
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise InvalidToken("The bearer token is not valid.")
        return dict(claims), kid

    def _check_times(self, claims: dict[str, Any]) -> None:
        """Issued and valid from no later than now, expiring after it (as PyJWT would check)."""
        times = [claims["exp"], claims["iat"], claims.get("nbf", claims["iat"])]
        if any(isinstance(value, bool) or not isinstance(value, (int, float)) for value in times):
            raise InvalidToken("The bearer token is not valid.")
        expires, issued, valid_from = times
        now = self.clock.now()
        if issued > now or valid_from > now:
            raise InvalidToken("The bearer token is not valid.")
        if now >= expires:
            raise InvalidToken("The bearer token has expired.")


def derived_key(config: Settings, purpose: str) -> bytes:
    """A key for one purpose (signing page cursors, fingerprinting idempotent requests),
    derived from `Settings.derivation_root`, which does not rotate with the signing keys."""
    return hmac.new(config.derivation_root.encode(), purpose.encode(), hashlib.sha256).digest()


def cursor_key(config: Settings) -> bytes:
    return derived_key(config, "page-cursor")
