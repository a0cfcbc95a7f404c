"""service.config: as deployed, the signing keys' secret and the derivation secret from
Secrets Manager (local runs and tests keep JWT_SECRET)."""

import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from devstack.aws import client
from service.config import ConfigError, Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT = "a-derivation-secret-" + "y" * 24


@pytest.fixture(scope="module")
def secrets_manager(local_aws):
    return client("secretsmanager", local_aws.endpoint_url)


def secret(secrets_manager, value: str = ROOT) -> str:
    return secrets_manager.create_secret(Name=f"marketplace/test/{uuid.uuid4().hex[:10]}", SecretString=value)["ARN"]


def settings(**env) -> Settings:
    return Settings.from_env(
        {
            "TABLE_PREFIX": "marketplace-dev",
            "EMAIL_SENDER": "no-reply@example.com",
            "APP_BASE_URL": "https://app.example.com",
            **env,
        }
    )


def test_the_derivation_root_is_read_when_the_keys_rotate(secrets_manager):
    chosen = settings(JWT_KEYS_SECRET_ID="marketplace/test/keys", DERIVATION_SECRET_ID=secret(secrets_manager))
    assert (chosen.jwt_keys_secret_id, chosen.jwt_secret, chosen.derivation_root) == ("marketplace/test/keys", "", ROOT)


def test_jwt_secret_wins_and_secrets_manager_is_not_asked(secrets_manager):
    # The secrets do not exist: reading them would fail.
    chosen = settings(JWT_SECRET="e" * 40, JWT_KEYS_SECRET_ID="absent", DERIVATION_SECRET_ID="absent")
    assert (chosen.jwt_secret, chosen.jwt_keys_secret_id, chosen.derivation_root) == ("e" * 40, "", "e" * 40)


def test_the_derivation_secret_is_required(secrets_manager):
    with pytest.raises(ConfigError) as caught:
        settings(JWT_KEYS_SECRET_ID="marketplace/test/keys")
    assert str(caught.value) == "DERIVATION_SECRET_ID is not set."


def test_a_short_derivation_secret_is_refused(secrets_manager):
    with pytest.raises(ConfigError) as caught:
        settings(JWT_KEYS_SECRET_ID="keys", DERIVATION_SECRET_ID=secret(secrets_manager, "short"))
    assert str(caught.value) == "The derivation secret must be at least 32 bytes."


def test_access_denied_names_the_secret(monkeypatch):
    """What a role without secretsmanager:GetSecretValue on the secret sees."""
    stubbed = boto3.session.Session(region_name="us-east-1").client("secretsmanager")
    stubber = Stubber(stubbed)
    stubber.add_client_error(
        "get_secret_value",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: secretsmanager:GetSecretValue",
    )
    stubber.activate()
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: stubbed)
    with pytest.raises(ConfigError) as caught:
        settings(JWT_KEYS_SECRET_ID="keys", DERIVATION_SECRET_ID="marketplace/dev/derivation")
    assert str(caught.value) == (
        "Cannot read Secrets Manager secret 'marketplace/dev/derivation' (DERIVATION_SECRET_ID): "
        "AccessDeniedException: not authorized to perform: secretsmanager:GetSecretValue"
    )


def test_config_does_not_import_boto3():
    """boto3 is imported only where a secret is read."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, service.config; print(sorted(m for m in sys.modules"
            " if m.split('.')[0] in ('boto3', 'botocore')))",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
