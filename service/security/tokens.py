"""Bearer tokens: HS256 JWTs with a key id, so the signing secret can rotate."""

import functools
import hashlib
import hmac
import re
import time
from typing import Any

import jwt

from ..config import Settings
from ..domain.errors import InvalidToken
from ..domain.users import User

ALGORITHM = "HS256"
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_USER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# A client sends the same token with every request, and verifying it again (header, HMAC,
# claims) costs 0.2-0.3 ms of CPU each time; so verified tokens are remembered, by their whole
# text (only the very token that was verified hits), until they expire. Refusals are not kept.
VERIFIED_TOKENS_KEPT = 1024


class JwtTokens:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._verify)

    def issue(self, user: User, now: float) -> str:
        """A signed token. Its roles are hints for the frontend; the server authorizes from
        stored state."""
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
        }
        return jwt.encode(
            claims, config.jwt_secret, algorithm=ALGORITHM, headers={"kid": config.jwt_key_id, "typ": "JWT"}
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of `token`, or `InvalidToken`."""
        claims = self._verified(token)
        if int(claims["exp"]) <= time.time():  # as PyJWT decides it, for a token it verified before
            raise InvalidToken("The bearer token has expired.")
        return dict(claims)

    def _verify(self, token: str) -> dict[str, Any]:
        config = self.settings
        if not _COMPACT_JWS.fullmatch(token):  # one spelling per token: no padding, no junk
            raise InvalidToken("The bearer token is not valid.")
        try:
            header = jwt.get_unverified_header(token)
            key = config.verification_keys.get(str(header.get("kid")))
            if key is None or header.get("alg") != ALGORITHM or header.get("typ", "JWT") != "JWT":
                raise InvalidToken("The bearer token is not valid.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=config.jwt_audience,
                issuer=config.jwt_issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The bearer token has expired.") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("The bearer token is not valid.") from None
        if not isinstance(claims.get("sub"), str) or not _USER_ID.fullmatch(claims["sub"]):
            raise InvalidToken("The bearer token is not valid.")
        return dict(claims)


def cursor_key(config: Settings) -> bytes:
    """The key that signs page cursors, derived from (and rotating with) the token secret."""
    return hmac.new(config.jwt_secret.encode(), b"page-cursor", hashlib.sha256).digest()
