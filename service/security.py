"""Passwords (bcrypt) and bearer tokens (PyJWT, HS256 with a key id for rotation)."""

import base64
import hashlib
import hmac
import re
import time
from functools import cache

import bcrypt
import jwt

from .config import Settings
from .context import settings
from .domain.errors import InvalidToken

ALGORITHM = "HS256"
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_USER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# A fixed, public key: it only stops the pre-hash from matching bare SHA-256 hashes of the
# same password leaked elsewhere ("hash shucking"); bcrypt's salt does the rest.
_PREHASH_KEY = b"lending-marketplace/password/v1"


def _prehash(password: str) -> bytes:
    """bcrypt reads at most 72 bytes (and bcrypt 5 refuses more); pre-hashing makes every
    character of a long password count. Base64 keeps NUL bytes out of bcrypt's input."""
    digest = hmac.new(_PREHASH_KEY, password.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode()


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """Constant work whether or not the user exists, so timing does not reveal accounts."""
    stored = password_hash.encode() if password_hash else _dummy_hash(rounds)
    return bcrypt.checkpw(_prehash(password), stored) and password_hash is not None


@cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds))


def issue_token(config: Settings, user_id: str, roles: dict[str, bool]) -> str:
    """A signed token. `roles` are hints for the frontend; the server authorizes from storage."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "iss": config.jwt_issuer,
        "aud": config.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + config.token_ttl_seconds,
        "roles": [role for role, held in roles.items() if held],
    }
    return jwt.encode(
        claims, config.jwt_secret, algorithm=ALGORITHM,
        headers={"kid": config.jwt_key_id, "typ": "JWT"},
    )


def decode_token(config: Settings, token: str) -> dict:
    """The verified claims of `token`, or `InvalidToken`."""
    if not _COMPACT_JWS.fullmatch(token):  # one spelling per token: no padding, no junk
        raise InvalidToken("The bearer token is not valid.")
    try:
        header = jwt.get_unverified_header(token)
        key = config.verification_keys.get(header.get("kid"))
        if key is None or header.get("alg") != ALGORITHM or header.get("typ", "JWT") != "JWT":
            raise InvalidToken("The bearer token is not valid.")
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=config.jwt_audience,
            issuer=config.jwt_issuer, options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The bearer token has expired.") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("The bearer token is not valid.") from None
    if not isinstance(claims.get("sub"), str) or not _USER_ID.fullmatch(claims["sub"]):
        raise InvalidToken("The bearer token is not valid.")
    return claims


def verify_bearer_token(token: str) -> dict:
    """Connexion's `x-bearerInfoFunc`: the claims become the handler's `token_info`, and
    `sub` its `user`. Whether that user still exists is checked against storage by the
    operation itself, in the same read that loads what it needs."""
    return decode_token(settings(), token)


def cursor_key(config: Settings) -> bytes:
    """The key that signs page cursors, derived from (and rotating with) the token secret."""
    return hmac.new(config.jwt_secret.encode(), b"page-cursor", hashlib.sha256).digest()
