"""The signing keys' rotation function: Secrets Manager invokes it with each step of a rotation
in turn (`createSecret`, `setSecret`, `testSecret`, `finishSecret`), all with the
`ClientRequestToken` that is the new version's id, which it has already staged `AWSPENDING`.

Each step may be retried, so each is idempotent. The new version's `kid` is its version id:
unique per rotation, and it says which version signed a token. Nothing outside this secret
holds the key (the API functions read it from here), so `setSecret` has nothing to set.
After `finishSecret` the API functions sign with the new key within `CACHE_SECONDS` and keep
verifying the one before (`AWSPREVIOUS`); the key before that is refused.
"""

import logging
import os
import secrets
from collections.abc import Callable
from typing import Any

from ..logs import configure_logging
from ..security.keys import SigningKey
from ..store.secrets import CURRENT, PENDING, KeysSecret

logger = logging.getLogger("service.rotation")
configure_logging(os.environ.get("LOG_LEVEL", "INFO"))


def create_secret(secret: KeysSecret, token: str) -> None:
    """A new key under AWSPENDING, unless this step already made it."""
    SigningKey.parse(secret.value(CURRENT) or "")  # the current version must be sound
    if secret.value(PENDING, token) is None:
        secret.put_pending(token, SigningKey(kid=token, secret=secrets.token_urlsafe(48)).dumps())
        logger.info("Created the pending signing key", extra={"version_id": token})


def set_secret(secret: KeysSecret, token: str) -> None:
    """Nothing outside the secret holds the key."""


def test_secret(secret: KeysSecret, token: str) -> None:
    """The pending version is a key the API can sign with, under the id it will be known by."""
    pending = SigningKey.parse(secret.value(PENDING, token) or "")
    if pending.kid != token:
        raise ValueError(f"The pending key of version {token} is named '{pending.kid}'.")


def finish_secret(secret: KeysSecret, token: str) -> None:
    """AWSCURRENT moves to the new version (and AWSPREVIOUS to the one it leaves)."""
    _, versions = secret.stages()
    current = next(version for version, stages in versions.items() if CURRENT in stages)
    if current != token:
        secret.make_current(token, current)
        logger.info("The new signing key is current", extra={"version_id": token, "previous": current})


STEPS: dict[str, Callable[[KeysSecret, str], None]] = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": finish_secret,
}


def handler(event: dict[str, Any], context: Any) -> None:
    """One step, after the checks of the documented rotation contract: rotation is on, and
    the token is a version staged AWSPENDING (or AWSCURRENT already: a finished retry)."""
    step, token = event["Step"], event["ClientRequestToken"]
    if step not in STEPS:
        raise ValueError(f"Unknown rotation step {step!r}.")
    secret = KeysSecret(event["SecretId"])
    enabled, versions = secret.stages()
    if not enabled:
        raise ValueError(f"Rotation is not enabled for {event['SecretId']}.")
    stages = versions.get(token)
    if stages is None:
        raise ValueError(f"Version {token} of {event['SecretId']} has no stage for rotation.")
    if CURRENT in stages:
        logger.info("Version %s is current already: nothing to do for %s", token, step)
        return
    if PENDING not in stages:
        raise ValueError(f"Version {token} of {event['SecretId']} is not AWSPENDING.")
    STEPS[step](secret, token)
