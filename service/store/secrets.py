"""Secrets Manager: the signing keys' secret (one `{kid, key}` per version, read by stage and
rotated by `service.lambdas.rotation`), and the value of a secret read once at start-up.

Stages are always named: moto (the local stand-in) answers a read without one with the
version a rotation last touched, not with `AWSCURRENT`.
"""

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..config import ConfigError
from ..security.keys import KeyRing, SigningKey
from .aws import BOTO_CONFIG, store_errors

CURRENT, PREVIOUS, PENDING = "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"
_ABSENT = {"ResourceNotFoundException"}


def _client() -> Any:
    return boto3.client("secretsmanager", config=BOTO_CONFIG)


class KeysSecret:
    def __init__(self, secret_id: str, client: Any = None):
        self.secret_id = secret_id
        self.client = client or _client()

    @store_errors
    def ring(self) -> KeyRing:
        """AWSCURRENT signs; AWSPREVIOUS, once there is one, still verifies."""
        current = self.value(CURRENT)
        if current is None:
            raise ConfigError(
                f"Secrets Manager secret '{self.secret_id}' (JWT_KEYS_SECRET_ID) has no {CURRENT} version."
            )
        previous = self.value(PREVIOUS)
        return KeyRing(SigningKey.parse(current), () if previous is None else (SigningKey.parse(previous),))

    def value(self, stage: str, version_id: str | None = None) -> str | None:
        """The value of the version with `stage` (and `version_id`, if given), None if none."""
        by_version = {"VersionId": version_id} if version_id else {}
        try:
            found = self.client.get_secret_value(SecretId=self.secret_id, VersionStage=stage, **by_version)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _ABSENT:
                return None
            raise
        value = found.get("SecretString")
        return None if value is None else str(value)

    def stages(self) -> tuple[bool, dict[str, list[str]]]:
        """Whether rotation is on, and each version's stages."""
        described = self.client.describe_secret(SecretId=self.secret_id)
        return bool(described.get("RotationEnabled")), dict(described.get("VersionIdsToStages", {}))

    def put_pending(self, version_id: str, value: str) -> None:
        self.client.put_secret_value(
            SecretId=self.secret_id, ClientRequestToken=version_id, SecretString=value, VersionStages=[PENDING]
        )

    def make_current(self, version_id: str, current_version_id: str) -> None:
        """Move AWSCURRENT to `version_id` (Secrets Manager moves AWSPREVIOUS to the one it
        left), then take AWSPENDING off it: a finished rotation may leave either, but moto
        starts no new rotation while a version is both."""
        self.client.update_secret_version_stage(
            SecretId=self.secret_id,
            VersionStage=CURRENT,
            MoveToVersionId=version_id,
            RemoveFromVersionId=current_version_id,
        )
        self.client.update_secret_version_stage(
            SecretId=self.secret_id, VersionStage=PENDING, RemoveFromVersionId=version_id
        )


def read_secret(secret_id: str, setting: str) -> str:
    """The current value of the secret a setting names, read once at start-up."""
    where = f"Secrets Manager secret '{secret_id}' ({setting})"
    try:
        value = KeysSecret(secret_id).value(CURRENT)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ConfigError(f"Cannot read {where}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise ConfigError(f"Cannot read {where}: {exc}") from None
    if value is None:
        raise ConfigError(f"{where} does not exist.")
    return value.strip()
