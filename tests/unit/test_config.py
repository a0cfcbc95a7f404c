"""service.config: settings read from the environment, refusing unsafe ones at start-up."""

import pytest

from service.config import MIN_SECRET_BYTES, ConfigError, Settings, TableNames
from service.security.keys import FixedKeys

SECRET = "s" * 40
OLD = "o" * 40
OLDER = "p" * 40


def verification_keys(settings: Settings) -> dict[str, str]:
    ring = FixedKeys.from_settings(settings).ring
    return {key.kid: key.secret for key in (*ring.previous, ring.current)}


def env(**overrides) -> dict:
    values = {
        "TABLE_PREFIX": "marketplace-dev",
        "JWT_SECRET": SECRET,
        "EMAIL_SENDER": "no-reply@example.com",
        "APP_BASE_URL": "https://app.example.com",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def refused(**overrides) -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env(**overrides))
    return str(caught.value)


def test_defaults():
    settings = Settings.from_env(env())
    assert settings.tables == TableNames(
        users="marketplace-dev-users",
        loans="marketplace-dev-loans",
        participants="marketplace-dev-loan-participants",
        invitations="marketplace-dev-invitations",
        ach_details="marketplace-dev-ach-details",
        events="marketplace-dev-loan-events",
        notifications="marketplace-dev-notifications",
        idempotency="marketplace-dev-idempotency",
        repayments="marketplace-dev-loan-repayments",
        sessions="marketplace-dev-sessions",
        documents="marketplace-dev-loan-documents",
    )
    assert settings.documents_bucket == ""
    assert Settings.from_env(env(DOCUMENTS_BUCKET="b-123")).documents_bucket == "b-123"
    assert settings.jwt_secret == SECRET
    assert settings.jwt_key_id == "v1"
    assert settings.jwt_previous_keys == {}
    assert settings.jwt_issuer == "lending-marketplace"
    assert settings.jwt_audience == "lending-marketplace-api"
    assert settings.token_ttl_seconds == 900  # short-lived: a refresh token renews it
    assert settings.bcrypt_rounds == 12
    assert settings.cors_allowed_origins == ()
    assert settings.max_body_bytes == 65536
    assert settings.validate_responses is False
    assert settings.log_level == "INFO"
    assert verification_keys(settings) == {"v1": SECRET}
    assert settings.derivation_root == SECRET  # locally, cursors' and fingerprints' keys derive from it


def test_every_setting_read():
    settings = Settings.from_env(
        env(
            TABLE_PREFIX="  p  ",
            JWT_SECRET=f"  {SECRET}  ",
            JWT_KEY_ID="v3",
            TOKEN_TTL_SECONDS="600",
            BCRYPT_ROUNDS="4",
            MAX_BODY_BYTES="1024",
            VALIDATE_RESPONSES="TRUE",
            LOG_LEVEL="debug",
        )
    )
    assert settings.tables.users == "p-users"
    assert settings.jwt_secret == SECRET
    assert settings.jwt_key_id == "v3"
    assert settings.token_ttl_seconds == 600
    assert settings.bcrypt_rounds == 4
    assert settings.max_body_bytes == 1024
    assert settings.validate_responses is True
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("True", True), ("0", False), ("false", False), ("yes", False), ("", False)],
)
def test_validate_responses(value, expected):
    assert Settings.from_env(env(VALIDATE_RESPONSES=value)).validate_responses is expected


@pytest.mark.parametrize("name", ["TABLE_PREFIX", "JWT_SECRET"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_required_variable_is_named(name, value):
    assert refused(**{name: value}) == f"{name} is not set."


def test_short_secret_rejected():
    message = refused(JWT_SECRET="s" * (MIN_SECRET_BYTES - 1))
    assert message == "JWT secret for key id 'v1' must be at least 32 bytes."
    assert MIN_SECRET_BYTES == 32
    assert Settings.from_env(env(JWT_SECRET="s" * MIN_SECRET_BYTES)).jwt_secret == "s" * 32


def test_secret_length_counts_bytes_not_characters():
    assert Settings.from_env(env(JWT_SECRET="é" * 16)).jwt_secret == "é" * 16  # 32 bytes
    refused(JWT_SECRET="é" * 15 + "a")  # 31 bytes


def test_short_secret_names_the_key_id():
    assert "'k2'" in refused(JWT_SECRET="short", JWT_KEY_ID="k2")


def test_previous_keys_parsed():
    settings = Settings.from_env(
        env(
            JWT_KEY_ID="v3",
            JWT_PREVIOUS_KEYS=f"v2={OLD}, v1 = {OLDER} ,",
        )
    )
    assert settings.jwt_previous_keys == {"v2": OLD, "v1": OLDER}
    assert verification_keys(settings) == {"v1": OLDER, "v2": OLD, "v3": SECRET}


def test_previous_key_may_contain_equals_signs():
    base64_secret = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3OA=="
    settings = Settings.from_env(env(JWT_PREVIOUS_KEYS=f"v0={base64_secret}"))
    assert settings.jwt_previous_keys == {"v0": base64_secret}


def test_current_key_wins_over_a_previous_key_with_the_same_id():
    settings = Settings.from_env(env(JWT_PREVIOUS_KEYS=f"v1={OLD}"))
    assert FixedKeys.from_settings(settings).verification_key("v1") == SECRET


@pytest.mark.parametrize("value", ["v1", f"={OLD}", "v1=", f"v2={OLD},broken", "v1=,v2="])
def test_malformed_previous_keys(value):
    assert refused(JWT_PREVIOUS_KEYS=value) == ("JWT_PREVIOUS_KEYS must look like 'kid=secret,kid=secret'.")


def test_short_previous_key_names_its_id():
    assert refused(JWT_PREVIOUS_KEYS="old=tooshort") == ("JWT secret for key id 'old' must be at least 32 bytes.")


def test_blank_previous_key_id_is_malformed():
    refused(JWT_PREVIOUS_KEYS=f"  ={OLD}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        ("http://localhost:3000", ("http://localhost:3000",)),
        (" https://a.example.com , ,https://b.example.com,", ("https://a.example.com", "https://b.example.com")),
    ],
)
def test_cors_origins(value, expected):
    assert Settings.from_env(env(CORS_ALLOWED_ORIGINS=value)).cors_allowed_origins == expected


@pytest.mark.parametrize("rounds", ["3", "32", "0", "-1"])
def test_bcrypt_rounds_out_of_range(rounds):
    assert refused(BCRYPT_ROUNDS=rounds) == "BCRYPT_ROUNDS must be between 4 and 31."


@pytest.mark.parametrize("rounds", ["4", "31"])
def test_bcrypt_rounds_bounds(rounds):
    assert Settings.from_env(env(BCRYPT_ROUNDS=rounds)).bcrypt_rounds == int(rounds)


@pytest.mark.parametrize("name", ["BCRYPT_ROUNDS", "TOKEN_TTL_SECONDS", "MAX_BODY_BYTES"])
def test_non_integer_settings(name):
    assert refused(**{name: "twelve"}).startswith("Invalid setting:")


def test_settings_validate_when_built_directly():
    with pytest.raises(ConfigError):
        Settings(tables=TableNames.with_prefix("t"), jwt_secret="short")
    with pytest.raises(ConfigError):
        Settings(tables=TableNames.with_prefix("t"), jwt_secret=SECRET, bcrypt_rounds=3)
    with pytest.raises(ConfigError, match="'old'"):
        Settings(tables=TableNames.with_prefix("t"), jwt_secret=SECRET, jwt_previous_keys={"old": "x"})


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("TOKEN_TTL_SECONDS", "0", "TOKEN_TTL_SECONDS"),
        ("TOKEN_TTL_SECONDS", "-5", "TOKEN_TTL_SECONDS"),
        ("MAX_BODY_BYTES", "0", "MAX_BODY_BYTES"),
        ("JWT_KEY_ID", "", "JWT_KEY_ID"),
    ],
)
def test_unusable_limits_and_key_ids_are_refused(name, value, named):
    assert named in refused(**{name: value})


@pytest.mark.parametrize("name", ["EMAIL_SENDER", "APP_BASE_URL"])
def test_the_sender_and_the_link_base_are_required(name):
    assert refused(**{name: None}) == f"{name} is not set."


@pytest.mark.parametrize("url", ["app.example.com", "https://app.example.com/", "ftp://app.example.com"])
def test_the_link_base_is_an_http_url_without_a_trailing_slash(url):
    assert "APP_BASE_URL" in refused(APP_BASE_URL=url)


def test_an_auto_verified_domain_verifies_only_that_domain():
    settings = Settings.from_env(env(AUTO_VERIFY_EMAIL_DOMAIN=" LoadTest.Example.com "))
    assert settings.verified_on_registration("u1@loadtest.example.com")
    assert not settings.verified_on_registration("u1@example.com")
    assert not settings.verified_on_registration("u1@evil-loadtest.example.com")
    assert not Settings.from_env(env()).verified_on_registration("u1@example.com")
    assert "AUTO_VERIFY_EMAIL_DOMAIN" in refused(AUTO_VERIFY_EMAIL_DOMAIN="someone@example.com")
