"""Secrets handed to a client once and stored only as their SHA-256: email verification and
password reset links, and refresh tokens. 32 random bytes, so a leaked table reveals nothing
usable and a stored hash cannot be searched back to its token."""

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SecretToken:
    """A token as issued: the secret for the client, its hash and expiry for the store."""

    token: str
    hash: str
    issued_at: float
    expires_at: int

    @classmethod
    def issue(cls, now: float, ttl_seconds: int) -> "SecretToken":
        token = secrets.token_urlsafe(TOKEN_BYTES)
        return cls(token, token_hash(token), now, int(now) + ttl_seconds)
