"""The signing keys in Secrets Manager, rotated mid-run: the API's functions (built from the
deployed environment, served through HTTP) sign with AWSCURRENT and verify AWSCURRENT or
AWSPREVIOUS by `kid`, picking a rotation up once their cache is `CACHE_SECONDS` old on the
injected clock; the rotation function's four steps run as Lambda runs them, after moto's
`RotateSecret` has staged the new version AWSPENDING (moto cannot run the function itself)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import httpx
import jwt
import pytest

from devstack.api import BackgroundServer
from devstack.aws import client
from service.clock import SystemClock
from service.config import Settings
from service.lambdas import rotation
from service.security.keys import CACHE_SECONDS

from conftest import PASSWORD, TEST_ENV, Account, assert_error, bearer, unique_email

STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]


class MovableClock(SystemClock):
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset


@pytest.fixture(scope="module")
def secrets_manager(local_aws):
    return client("secretsmanager", local_aws.endpoint_url)


@pytest.fixture(scope="module")
def rotation_function(local_aws) -> str:
    """A function for RotateSecret to name (moto requires one; it cannot run its code)."""
    role = client("iam", local_aws.endpoint_url).create_role(
        RoleName=f"rotation-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("placeholder.py", "def handler(event, context): pass\n")
    return client("lambda", local_aws.endpoint_url).create_function(
        FunctionName=f"rotation-{uuid.uuid4().hex[:8]}",
        Runtime="python3.11",
        Role=role,
        Handler="placeholder.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]


@pytest.fixture
def keys_secret(secrets_manager) -> str:
    initial = json.dumps({"kid": "initial", "key": "k" * 48})
    return secrets_manager.create_secret(Name=f"jwt-keys-{uuid.uuid4().hex[:8]}", SecretString=initial)["ARN"]


@pytest.fixture
def deployed(services, secrets_manager, keys_secret):
    """The API as deployed (keys from Secrets Manager; no JWT_SECRET) on its own clock."""
    from service.bootstrap import bootstrap
    from service.http.app import create_app

    root = secrets_manager.create_secret(Name=f"derivation-{uuid.uuid4().hex[:8]}", SecretString="r" * 48)["ARN"]
    env = {k: v for k, v in TEST_ENV.items() if k != "JWT_SECRET"}
    settings = Settings.from_env({**env, "JWT_KEYS_SECRET_ID": keys_secret, "DERIVATION_SECRET_ID": root})
    assert (settings.jwt_secret, settings.derivation_root) == ("", "r" * 48)
    clock = MovableClock()
    built = bootstrap(settings, store=services.store, vault=services.vault, mailer=services.mailer, clock=clock)
    server = BackgroundServer(create_app(built))
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        yield api, clock
    server.stop()


def rotate(secrets_manager, secret: str, function: str) -> str:
    """A rotation as Secrets Manager runs it: stage a new version, then each step in turn."""
    token = secrets_manager.rotate_secret(
        SecretId=secret, RotationLambdaARN=function, RotationRules={"AutomaticallyAfterDays": 30}
    )["VersionId"]
    for step in STEPS:
        rotation.handler({"Step": step, "SecretId": secret, "ClientRequestToken": token}, None)
    return token


def kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def login(api: httpx.Client, email: str) -> str:
    response = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def profile(api: httpx.Client, token: str) -> httpx.Response:
    return api.get("/user/profile", headers=bearer(token))


def test_tokens_verify_across_one_rotation_and_not_two(deployed, secrets_manager, keys_secret, rotation_function):
    api, clock = deployed
    user = Account(api, "Rotating", unique_email("rotation"))
    first = user.token
    assert kid(first) == "initial"
    change = {**bearer(first), "Idempotency-Key": str(uuid.uuid4())}
    assert api.patch("/user/profile", headers=change, json={"name": "Rotated"}).status_code == 200

    version = rotate(secrets_manager, keys_secret, rotation_function)
    assert kid(login(api, user.email)) == "initial"  # the cache is not stale yet
    clock.offset += CACHE_SECONDS
    second = login(api, user.email)
    assert kid(second) == version
    assert profile(api, first).status_code == profile(api, second).status_code == 200
    # Request fingerprints do not derive from the signing keys: the retry still replays.
    replay = api.patch("/user/profile", headers=change, json={"name": "Rotated"})
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"

    newer = rotate(secrets_manager, keys_secret, rotation_function)
    clock.offset += CACHE_SECONDS
    third = login(api, user.email)
    assert kid(third) == newer
    assert profile(api, second).status_code == profile(api, third).status_code == 200
    assert_error(profile(api, first), 401, "INVALID_TOKEN")


def test_each_step_may_run_again_and_a_finished_version_is_left_alone(
    secrets_manager, keys_secret, rotation_function
) -> None:
    token = secrets_manager.rotate_secret(
        SecretId=keys_secret, RotationLambdaARN=rotation_function, RotationRules={"AutomaticallyAfterDays": 30}
    )["VersionId"]
    event = {"SecretId": keys_secret, "ClientRequestToken": token}
    for step in ["createSecret", "createSecret", "setSecret", "testSecret", "finishSecret", "finishSecret"]:
        rotation.handler({**event, "Step": step}, None)
    current = secrets_manager.get_secret_value(SecretId=keys_secret, VersionStage="AWSCURRENT")
    previous = secrets_manager.get_secret_value(SecretId=keys_secret, VersionStage="AWSPREVIOUS")
    assert current["VersionId"] == token and json.loads(current["SecretString"])["kid"] == token
    assert len(json.loads(current["SecretString"])["key"]) >= 32
    assert json.loads(previous["SecretString"])["kid"] == "initial"
    rotation.handler({**event, "Step": "createSecret"}, None)  # current already: nothing to do
    assert secrets_manager.get_secret_value(SecretId=keys_secret, VersionStage="AWSCURRENT")["VersionId"] == token


def test_refuses_a_version_not_staged_for_rotation(secrets_manager, keys_secret, rotation_function) -> None:
    with pytest.raises(ValueError, match="not enabled"):  # no rotation configured yet
        rotation.handler(
            {"SecretId": keys_secret, "ClientRequestToken": str(uuid.uuid4()), "Step": "createSecret"}, None
        )
    rotate(secrets_manager, keys_secret, rotation_function)
    with pytest.raises(ValueError, match="no stage"):
        rotation.handler(
            {"SecretId": keys_secret, "ClientRequestToken": str(uuid.uuid4()), "Step": "createSecret"}, None
        )
    with pytest.raises(ValueError, match="Unknown rotation step"):
        rotation.handler({"SecretId": keys_secret, "ClientRequestToken": "x", "Step": "dropSecret"}, None)
