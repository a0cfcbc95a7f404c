"""Where the token signing keys come from.

Locally and in tests: fixed keys from the settings (`JWT_SECRET`, `JWT_KEY_ID`,
`JWT_PREVIOUS_KEYS`). Deployed: the versions of a Secrets Manager secret, one `{kid, key}` per
version; tokens are signed with `AWSCURRENT` and verified with `AWSCURRENT` or `AWSPREVIOUS`,
chosen by `kid`. The process keeps them for `CACHE_SECONDS` on the injected clock, so a
rotation (`service.lambdas.rotation`) takes effect everywhere within minutes, without a
redeploy.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..config import MIN_SECRET_BYTES, Settings
from ..usecases.ports import Clock

CACHE_SECONDS = 300
# A kid the cache does not know may be one another instance already signs with, after a
# rotation: look again, but at most this often, so made-up kids cannot flood the secret.
RELOOK_SECONDS = 30
MAX_KID_LENGTH = 64
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str

    def __post_init__(self) -> None:
        if not self.kid or len(self.kid) > MAX_KID_LENGTH or not self.kid.isprintable():
            raise ValueError(f"A key id must be 1 to {MAX_KID_LENGTH} printable characters.")
        if len(self.secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"The key '{self.kid}' must be at least {MIN_SECRET_BYTES} bytes.")

    @classmethod
    def parse(cls, text: str) -> "SigningKey":
        """A secret version's value, `{"kid": ..., "key": ...}`, or ValueError."""
        value = json.loads(text)
        if not isinstance(value, dict) or not all(isinstance(value.get(name), str) for name in ("kid", "key")):
            raise ValueError('A signing key secret must be a JSON object {"kid": string, "key": string}.')
        return cls(value["kid"], value["key"])

    def dumps(self) -> str:
        return json.dumps({"kid": self.kid, "key": self.secret})


@dataclass(frozen=True)
class KeyRing:
    """The key that signs, and those that still verify."""

    current: SigningKey
    previous: tuple[SigningKey, ...] = ()

    def find(self, kid: str) -> str | None:
        return next((key.secret for key in (self.current, *self.previous) if key.kid == kid), None)


class SigningKeys(Protocol):
    def signing_key(self) -> SigningKey: ...
    def verification_key(self, kid: str) -> str | None: ...


class FixedKeys:
    def __init__(self, ring: KeyRing):
        self.ring = ring

    @classmethod
    def from_settings(cls, settings: Settings) -> "FixedKeys":
        previous = tuple(SigningKey(kid, secret) for kid, secret in settings.jwt_previous_keys.items())
        return cls(KeyRing(SigningKey(settings.jwt_key_id, settings.jwt_secret), previous))

    def signing_key(self) -> SigningKey:
        return self.ring.current

    def verification_key(self, kid: str) -> str | None:
        return self.ring.find(kid)


class CachedKeys:
    """The ring `load` reads (at once, so a misconfiguration fails at start-up), read again
    once it is `CACHE_SECONDS` old. If reading again fails, the ring in hand stays in use and
    the read is tried again `RELOOK_SECONDS` later: an outage of the secret's store does not
    stop tokens."""

    def __init__(self, load: Callable[[], KeyRing], clock: Clock):
        self._load = load
        self._clock = clock
        self._ring, self._loaded_at = load(), clock.now()

    def _fresh(self, older_than: float = CACHE_SECONDS) -> KeyRing:
        now = self._clock.now()
        if now - self._loaded_at >= older_than:
            try:
                self._ring, self._loaded_at = self._load(), now
            except Exception:
                logger.exception("Could not read the signing keys again; keeping those in hand")
                self._loaded_at = now - CACHE_SECONDS + RELOOK_SECONDS
        return self._ring

    def signing_key(self) -> SigningKey:
        return self._fresh().current

    def verification_key(self, kid: str) -> str | None:
        return self._fresh().find(kid) or self._fresh(older_than=RELOOK_SECONDS).find(kid)
