"""Settings, read once from the environment; a missing or unsafe one fails at start-up."""

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .domain.throttling import LoginThrottle

MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The service cannot start with this configuration."""


def _jwt_secret(env: Mapping[str, str], required: Callable[[str], str], needed: bool = True) -> str:
    """JWT_SECRET; or, when only JWT_SECRET_PARAMETER is set (as deployed), the SSM parameter
    it names. Functions that neither issue nor check tokens (the expiry job, the notifier) are
    not given it: they get a random key no one knows, which nothing they do uses."""
    if not needed:
        return secrets.token_urlsafe(48)
    parameter = env.get("JWT_SECRET_PARAMETER", "").strip()
    if parameter and not env.get("JWT_SECRET", "").strip():
        return read_secret_parameter(parameter)
    return required("JWT_SECRET")


def read_secret_parameter(name: str) -> str:
    """The decrypted value of the SecureString parameter `name`, read once at start-up."""
    import boto3  # here, not at the top: only deployed functions read the secret from SSM
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"SSM parameter '{name}' (JWT_SECRET_PARAMETER)"
    ssm = boto3.client(
        "ssm",
        config=Config(
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=2,
            read_timeout=5,
        ),
    )
    try:
        parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ParameterNotFound":
            raise ConfigError(f"{where} does not exist.") from None
        raise ConfigError(f"Cannot read {where}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise ConfigError(f"Cannot read {where}: {exc}") from None
    if parameter.get("Type") != "SecureString":
        raise ConfigError(f"{where} must be a SecureString, not a {parameter.get('Type')}.")
    return str(parameter["Value"]).strip()


@dataclass(frozen=True)
class TableNames:
    users: str
    loans: str
    participants: str
    invitations: str
    ach_details: str
    events: str
    notifications: str
    idempotency: str
    documents: str

    @classmethod
    def with_prefix(cls, prefix: str) -> "TableNames":
        """The names the database template gives its tables: `<project>-<stage>-<table>`."""
        return cls(
            users=f"{prefix}-users",
            loans=f"{prefix}-loans",
            participants=f"{prefix}-loan-participants",
            invitations=f"{prefix}-invitations",
            ach_details=f"{prefix}-ach-details",
            events=f"{prefix}-loan-events",
            notifications=f"{prefix}-notifications",
            idempotency=f"{prefix}-idempotency",
            documents=f"{prefix}-loan-documents",
        )


@dataclass(frozen=True)
class Settings:
    tables: TableNames
    jwt_secret: str
    # The SES identity emails come from, and the frontend their links open (`from_env`
    # requires both; these defaults serve code that builds settings by hand).
    email_sender: str = "no-reply@example.com"
    app_base_url: str = "http://localhost:3000"
    jwt_key_id: str = "v1"
    # Keys that still verify tokens after a rotation: {kid: secret}.
    jwt_previous_keys: dict[str, str] = field(default_factory=dict)
    jwt_issuer: str = "lending-marketplace"
    jwt_audience: str = "lending-marketplace-api"
    token_ttl_seconds: int = 3600
    bcrypt_rounds: int = 12
    cors_allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    validate_responses: bool = False
    log_level: str = "INFO"
    # The KMS key that wraps ACH data keys; by default the alias the database stack makes.
    ach_kms_key_id: str = ""
    login_throttle: LoginThrottle = LoginThrottle()
    # Accounts at this email domain are verified when they register: for load tests against
    # a deployed non-prod stage, whose mailboxes nobody reads. Empty (the default) for none.
    auto_verify_email_domain: str = ""
    # The earliest funding deadline a new loan may have, from now (load runs lower it).
    min_funding_window_seconds: int = 3600
    # The private bucket of loan documents (the database stack's DocumentsBucket).
    documents_bucket: str = ""

    def __post_init__(self) -> None:
        for kid, secret in {self.jwt_key_id: self.jwt_secret, **self.jwt_previous_keys}.items():
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"JWT secret for key id '{kid}' must be at least {MIN_SECRET_BYTES} bytes.")
        if not 4 <= self.bcrypt_rounds <= 31:
            raise ConfigError("BCRYPT_ROUNDS must be between 4 and 31.")
        if not self.jwt_key_id:
            raise ConfigError("JWT_KEY_ID must not be empty.")
        if self.token_ttl_seconds < 60:
            raise ConfigError("TOKEN_TTL_SECONDS must be at least 60.")
        if self.max_body_bytes < 1024:
            raise ConfigError("MAX_BODY_BYTES must be at least 1024.")
        if not self.app_base_url.startswith(("https://", "http://")) or self.app_base_url.endswith("/"):
            raise ConfigError("APP_BASE_URL must be an http(s) URL without a trailing slash.")
        if self.min_funding_window_seconds < 1:
            raise ConfigError("MIN_FUNDING_WINDOW_SECONDS must be at least 1.")
        if "@" in self.auto_verify_email_domain:
            raise ConfigError("AUTO_VERIFY_EMAIL_DOMAIN is a domain, such as loadtest.example.com.")

    def verified_on_registration(self, email: str) -> bool:
        domain = self.auto_verify_email_domain
        return bool(domain) and email.rpartition("@")[2] == domain

    @property
    def verification_keys(self) -> dict[str, str]:
        return {**self.jwt_previous_keys, self.jwt_key_id: self.jwt_secret}

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, with_secret: bool = True) -> "Settings":
        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ConfigError(f"{name} is not set.")
            return value

        previous = {}
        for pair in filter(None, env.get("JWT_PREVIOUS_KEYS", "").split(",")):
            kid, _, secret = (part.strip() for part in pair.partition("="))
            if not kid or not secret:
                raise ConfigError("JWT_PREVIOUS_KEYS must look like 'kid=secret,kid=secret'.")
            previous[kid] = secret
        origins = tuple(o.strip() for o in env.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip())
        prefix = required("TABLE_PREFIX")
        try:
            return cls(
                tables=TableNames.with_prefix(prefix),
                jwt_secret=_jwt_secret(env, required, with_secret),
                email_sender=required("EMAIL_SENDER"),
                app_base_url=required("APP_BASE_URL"),
                auto_verify_email_domain=env.get("AUTO_VERIFY_EMAIL_DOMAIN", "").strip().lower(),
                min_funding_window_seconds=int(env.get("MIN_FUNDING_WINDOW_SECONDS", 3600)),
                documents_bucket=env.get("DOCUMENTS_BUCKET", "").strip(),
                jwt_key_id=env.get("JWT_KEY_ID", "v1"),
                jwt_previous_keys=previous,
                token_ttl_seconds=int(env.get("TOKEN_TTL_SECONDS", 3600)),
                bcrypt_rounds=int(env.get("BCRYPT_ROUNDS", 12)),
                cors_allowed_origins=origins,
                max_body_bytes=int(env.get("MAX_BODY_BYTES", 64 * 1024)),
                validate_responses=env.get("VALIDATE_RESPONSES", "").lower() in ("1", "true"),
                log_level=env.get("LOG_LEVEL", "INFO").upper(),
                ach_kms_key_id=env.get("ACH_KMS_KEY_ID", "").strip() or f"alias/{prefix}-ach",
                login_throttle=LoginThrottle(
                    max_failures=int(env.get("LOGIN_MAX_FAILURES", 5)),
                    lockout_seconds=int(env.get("LOGIN_LOCKOUT_SECONDS", 900)),
                ),
            )
        except ValueError as exc:
            raise ConfigError(f"Invalid setting: {exc}") from None
