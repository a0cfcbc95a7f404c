"""service.config: the JWT secret from SSM Parameter Store, as deployed functions read it."""

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
SECRET = "a-secret-from-parameter-store-" + "y" * 16


@pytest.fixture(scope="module")
def ssm(local_aws):
    return client("ssm", local_aws.endpoint_url)


def parameter(ssm, value: str = SECRET, kind: str = "SecureString") -> str:
    name = f"/marketplace/test/{uuid.uuid4().hex[:10]}"
    ssm.put_parameter(Name=name, Type=kind, Value=value)
    return name


def settings(**env) -> Settings:
    return Settings.from_env(
        {
            "TABLE_PREFIX": "marketplace-dev",
            "EMAIL_SENDER": "no-reply@example.com",
            "APP_BASE_URL": "https://app.example.com",
            **env,
        }
    )


def test_secret_read_from_a_secure_string(ssm):
    assert settings(JWT_SECRET_PARAMETER=parameter(ssm)).jwt_secret == SECRET


def test_jwt_secret_wins_and_ssm_is_not_asked(ssm):
    # The parameter does not exist: reading it would fail.
    chosen = settings(JWT_SECRET="e" * 40, JWT_SECRET_PARAMETER="/marketplace/test/absent")
    assert chosen.jwt_secret == "e" * 40


def test_blank_jwt_secret_falls_back_to_the_parameter(ssm):
    assert settings(JWT_SECRET="  ", JWT_SECRET_PARAMETER=parameter(ssm)).jwt_secret == SECRET


def test_missing_parameter(ssm):
    with pytest.raises(ConfigError) as caught:
        settings(JWT_SECRET_PARAMETER="/marketplace/test/absent")
    assert str(caught.value) == "SSM parameter '/marketplace/test/absent' (JWT_SECRET_PARAMETER) does not exist."


def test_plain_string_parameter_refused(ssm):
    name = parameter(ssm, kind="String")
    with pytest.raises(ConfigError) as caught:
        settings(JWT_SECRET_PARAMETER=name)
    assert str(caught.value) == f"SSM parameter '{name}' (JWT_SECRET_PARAMETER) must be a SecureString, not a String."


def test_short_secret_in_the_parameter_refused(ssm):
    with pytest.raises(ConfigError) as caught:
        settings(JWT_SECRET_PARAMETER=parameter(ssm, value="short"))
    assert str(caught.value) == "JWT secret for key id 'v1' must be at least 32 bytes."


def test_table_prefix_is_checked_before_ssm_is_asked():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"JWT_SECRET_PARAMETER": "/marketplace/test/absent"})
    assert str(caught.value) == "TABLE_PREFIX is not set."


def test_access_denied_names_the_parameter(monkeypatch):
    """What a role without ssm:GetParameter (or kms:Decrypt on a customer managed key) sees."""
    stubbed = boto3.session.Session(region_name="us-east-1").client("ssm")
    stubber = Stubber(stubbed)
    stubber.add_client_error(
        "get_parameter",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: ssm:GetParameter",
    )
    stubber.activate()
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: stubbed)
    with pytest.raises(ConfigError) as caught:
        settings(JWT_SECRET_PARAMETER="/marketplace/dev/jwt-secret")
    assert str(caught.value) == (
        "Cannot read SSM parameter '/marketplace/dev/jwt-secret' (JWT_SECRET_PARAMETER): "
        "AccessDeniedException: not authorized to perform: ssm:GetParameter"
    )


def test_config_does_not_import_boto3():
    """boto3 is imported only where the secret is read from SSM."""
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
