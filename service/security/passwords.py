"""Passwords, hashed with bcrypt after a keyed pre-hash (`usecases.ports.Passwords`)."""

import base64
import hashlib
import hmac
from functools import cache

import bcrypt

# A fixed, public key: it only stops the pre-hash from matching bare SHA-256 hashes of the
# same password leaked elsewhere ("hash shucking"); bcrypt's salt does the rest.
_PREHASH_KEY = b"lending-marketplace/password/v1"


def _prehash(password: str) -> bytes:
    """bcrypt reads at most 72 bytes (and bcrypt 5 refuses more); pre-hashing makes every
    character of a long password count. Base64 keeps NUL bytes out of bcrypt's input."""
    digest = hmac.new(_PREHASH_KEY, password.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)


@cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds))


class BcryptPasswords:
    def __init__(self, rounds: int):
        self.rounds = rounds

    def hash(self, password: str) -> str:
        return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self.rounds)).decode()

    def check(self, password: str, password_hash: str | None) -> bool:
        """Constant work whether or not the user exists, so timing does not reveal accounts."""
        stored = password_hash.encode() if password_hash else _dummy_hash(self.rounds)
        return bcrypt.checkpw(_prehash(password), stored) and password_hash is not None
