"""service.security.keys: the signing keys a process holds, and when it reads them again."""

import json

import pytest

from service.security.keys import CACHE_SECONDS, RELOOK_SECONDS, CachedKeys, KeyRing, SigningKey

OLD, NEW = SigningKey("old", "o" * 40), SigningKey("new", "n" * 40)


class Clock:
    def __init__(self) -> None:
        self.at = 1_000_000.0

    def now(self) -> float:
        return self.at

    def timestamp(self) -> str:
        raise NotImplementedError


class Secret:
    """What the secret holds now, and how often it was read."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring, self.reads, self.failing = ring, 0, False

    def load(self) -> KeyRing:
        self.reads += 1
        if self.failing:
            raise RuntimeError("Secrets Manager is down")
        return self.ring


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_read_once_then_again_when_stale(clock) -> None:
    secret = Secret(KeyRing(OLD))
    keys = CachedKeys(secret.load, clock)
    secret.ring = KeyRing(NEW, (OLD,))
    clock.at += CACHE_SECONDS - 1
    assert keys.signing_key() == OLD and keys.verification_key("old") == OLD.secret and secret.reads == 1
    clock.at += 1
    assert keys.signing_key() == NEW and keys.verification_key("old") == OLD.secret and secret.reads == 2


def test_an_unknown_kid_looks_again_but_not_often(clock) -> None:
    """Another instance may already sign with a key this one has not read yet."""
    secret = Secret(KeyRing(OLD))
    keys = CachedKeys(secret.load, clock)
    secret.ring = KeyRing(NEW, (OLD,))
    clock.at += RELOOK_SECONDS - 1
    assert keys.verification_key("new") is None and secret.reads == 1
    clock.at += 1
    assert keys.verification_key("new") == NEW.secret and secret.reads == 2
    for _ in range(5):  # made-up kids read nothing more
        assert keys.verification_key("made-up") is None
    assert secret.reads == 2


def test_a_failed_read_keeps_the_keys_in_hand_and_tries_again_later(clock) -> None:
    secret = Secret(KeyRing(OLD))
    keys = CachedKeys(secret.load, clock)
    secret.failing = True
    clock.at += CACHE_SECONDS
    assert keys.signing_key() == OLD and secret.reads == 2
    assert keys.signing_key() == OLD and secret.reads == 2
    secret.failing, secret.ring = False, KeyRing(NEW, (OLD,))
    clock.at += RELOOK_SECONDS
    assert keys.signing_key() == NEW and secret.reads == 3


def test_the_first_read_must_succeed(clock) -> None:
    secret = Secret(KeyRing(OLD))
    secret.failing = True
    with pytest.raises(RuntimeError):
        CachedKeys(secret.load, clock)


@pytest.mark.parametrize(
    "value",
    ["not json", "[]", json.dumps({"kid": "v2"}), json.dumps({"kid": 2, "key": "k" * 40}),
     json.dumps({"kid": "v2", "key": "short"}), json.dumps({"kid": "", "key": "k" * 40})],
)  # fmt: skip
def test_a_version_must_be_a_kid_and_a_long_key(value) -> None:
    with pytest.raises(ValueError):
        SigningKey.parse(value)
    assert SigningKey.parse(SigningKey("v2", "k" * 40).dumps()) == SigningKey("v2", "k" * 40)
