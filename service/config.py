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
    """JWT_SECRET, the one fixed signing key of local runs and tests. Functions that neither
    issue nor check tokens (the expiry job, the notifier) are not given it: they get a random
    key no one knows, which nothing they do uses. Deployed, keys come from Secrets Manager
    (`JWT_KEYS_SECRET_ID`, see `service.security.keys`) and this is empty."""
    if not needed:
        return secrets.token_urlsafe(48)
    return required("JWT_SECRET")


def _rotating_keys(env: Mapping[str, str], required: Callable[[str], str], needed: bool) -> tuple[str, str]:
    """(the signing keys' secret, the root of the derived keys), as deployed: set when
    JWT_KEYS_SECRET_ID is and JWT_SECRET is not. The root is read once, here; it never
    rotates (see `Settings.derivation_root`)."""
    keys = env.get("JWT_KEYS_SECRET_ID", "").strip()
    if not needed or not keys or env.get("JWT_SECRET", "").strip():
        return "", ""
    from .store.secrets import read_secret  # boto3 is imported only where a secret is read

    return keys, read_secret(required("DERIVATION_SECRET_ID"), "DERIVATION_SECRET_ID")


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
    repayments: str
    sessions: str
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
            repayments=f"{prefix}-loan-repayments",
            sessions=f"{prefix}-sessions",
            documents=f"{prefix}-loan-documents",
        )


@dataclass(frozen=True)
class Settings:
    tables: TableNames
    # The fixed signing key (local runs, tests); empty when `jwt_keys_secret_id` names the
    # Secrets Manager secret that holds the rotating ones (deployed).
    jwt_secret: str
    # The SES identity emails come from, and the frontend their links open (`from_env`
    # requires both; these defaults serve code that builds settings by hand).
    email_sender: str = "no-reply@example.com"
    app_base_url: str = "http://localhost:3000"
    jwt_key_id: str = "v1"
    # Keys that still verify tokens after a rotation: {kid: secret}.
    jwt_previous_keys: dict[str, str] = field(default_factory=dict)
    jwt_keys_secret_id: str = ""
    # The root of the keys derived for other purposes (page cursors, request fingerprints)
    # when the signing keys rotate; see `derivation_root`.
    derivation_secret: str = ""
    jwt_issuer: str = "lending-marketplace"
    jwt_audience: str = "lending-marketplace-api"
    # The access token's lifetime: short, since a refresh token renews it (`domain.sessions`).
    token_ttl_seconds: int = 900
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
        fixed = {} if self.jwt_keys_secret_id else {self.jwt_key_id: self.jwt_secret, **self.jwt_previous_keys}
        for kid, secret in fixed.items():
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ConfigError(f"JWT secret for key id '{kid}' must be at least {MIN_SECRET_BYTES} bytes.")
        if len(self.derivation_root.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"The derivation secret must be at least {MIN_SECRET_BYTES} bytes.")
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
    def derivation_root(self) -> str:
        """What page cursors' and request fingerprints' keys derive from: the fixed signing
        key locally; deployed, a secret of its own that never rotates, since a cursor or an
        idempotent retry must keep working across a rotation, and on every instance whichever
        keys it has cached."""
        return self.derivation_secret or self.jwt_secret

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
        keys_secret, derivation = _rotating_keys(env, required, with_secret)
        try:
            return cls(
                tables=TableNames.with_prefix(prefix),
                jwt_secret="" if keys_secret else _jwt_secret(env, required, with_secret),
                jwt_keys_secret_id=keys_secret,
                derivation_secret=derivation,
                email_sender=required("EMAIL_SENDER"),
                app_base_url=required("APP_BASE_URL"),
                auto_verify_email_domain=env.get("AUTO_VERIFY_EMAIL_DOMAIN", "").strip().lower(),
                min_funding_window_seconds=int(env.get("MIN_FUNDING_WINDOW_SECONDS", 3600)),
                documents_bucket=env.get("DOCUMENTS_BUCKET", "").strip(),
                jwt_key_id=env.get("JWT_KEY_ID", "v1"),
                jwt_previous_keys=previous,
                token_ttl_seconds=int(env.get("TOKEN_TTL_SECONDS", 900)),
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
