"""The composition root: the one place that chooses the adapters and wires the use cases.

The HTTP app, the Lambda entry points, the local stack and the tests all build their
`Services` here; tests may pass their own adapters (a clock, a store) by name.
"""

from dataclasses import dataclass

from .clock import SystemClock
from .config import Settings
from .security.keys import CachedKeys, FixedKeys, SigningKeys
from .security.passwords import BcryptPasswords
from .security.tokens import JwtTokens, cursor_key, derived_key
from .store import DynamoStore, KmsVault, S3Files, SesMailer
from .usecases.accounts import AccountService
from .usecases.dashboard import DashboardService
from .usecases.documents import DocumentService
from .usecases.expiry import ExpiryService
from .usecases.files import Files
from .usecases.funding import FundingService
from .usecases.history import HistoryService
from .usecases.idempotency import IdempotencyService
from .usecases.lifecycle import LifecycleService
from .usecases.loans import LoanService
from .usecases.notifications import NotificationService
from .usecases.passwords import PasswordService
from .usecases.ports import Clock, Mailer, Storage, Vault
from .usecases.profiles import ProfileService
from .usecases.repayments import RepaymentService
from .usecases.sessions import SessionService
from .usecases.verification import VerificationService


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Storage
    vault: Vault
    mailer: Mailer
    files: Files
    clock: Clock
    tokens: JwtTokens
    sessions: SessionService
    accounts: AccountService
    passwords: PasswordService
    profiles: ProfileService
    verification: VerificationService
    loans: LoanService
    funding: FundingService
    lifecycle: LifecycleService
    history: HistoryService
    repayments: RepaymentService
    expiry: ExpiryService
    notifications: NotificationService
    dashboards: DashboardService
    idempotency: IdempotencyService
    documents: DocumentService


def bootstrap(
    settings: Settings | None = None,
    *,
    store: Storage | None = None,
    vault: Vault | None = None,
    mailer: Mailer | None = None,
    files: Files | None = None,
    clock: Clock | None = None,
) -> Services:
    settings = settings or Settings.from_env()
    store = store or DynamoStore(settings.tables, cursor_key(settings))
    vault = vault or KmsVault(settings.ach_kms_key_id)
    mailer = mailer or SesMailer(settings.email_sender)
    files = files or S3Files(settings.documents_bucket)
    clock = clock or SystemClock()
    tokens = JwtTokens(settings, clock, signing_keys(settings, clock))
    passwords = BcryptPasswords(settings.bcrypt_rounds)
    sessions = SessionService(store, tokens, clock, settings)
    accounts = AccountService(store, passwords, sessions, mailer, clock, settings)
    return Services(
        settings=settings,
        store=store,
        vault=vault,
        mailer=mailer,
        files=files,
        clock=clock,
        tokens=tokens,
        sessions=sessions,
        accounts=accounts,
        passwords=PasswordService(store, passwords, mailer, clock, settings),
        profiles=ProfileService(store),
        verification=VerificationService(store, accounts, mailer, clock, settings),
        loans=LoanService(store, clock, settings),
        funding=FundingService(store, vault, clock),
        lifecycle=LifecycleService(store, clock),
        history=HistoryService(store),
        repayments=RepaymentService(store, clock),
        expiry=ExpiryService(store, clock),
        notifications=NotificationService(store, mailer, settings),
        dashboards=DashboardService(store, clock),
        idempotency=IdempotencyService(store, clock, derived_key(settings, "idempotent-request")),
        documents=DocumentService(store, files, clock),
    )


def signing_keys(settings: Settings, clock: Clock) -> SigningKeys:
    """The deployed stack's rotating keys from Secrets Manager, or the fixed local ones."""
    if not settings.jwt_keys_secret_id:
        return FixedKeys.from_settings(settings)
    from .store.secrets import KeysSecret  # boto3 for Secrets Manager only where it is used

    return CachedKeys(KeysSecret(settings.jwt_keys_secret_id).ring, clock)
