"""The composition root: the one place that chooses the adapters and wires the use cases.

The HTTP app, the Lambda entry points, the local stack and the tests all build their
`Services` here; tests may pass their own adapters (a clock, a store) by name.
"""

from dataclasses import dataclass

from .clock import SystemClock
from .config import Settings
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
from .usecases.ports import Clock, Mailer, Storage, Vault
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
    accounts: AccountService
    verification: VerificationService
    loans: LoanService
    funding: FundingService
    lifecycle: LifecycleService
    history: HistoryService
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
    tokens = JwtTokens(settings, clock)
    accounts = AccountService(store, BcryptPasswords(settings.bcrypt_rounds), tokens, mailer, clock, settings)
    return Services(
        settings=settings,
        store=store,
        vault=vault,
        mailer=mailer,
        files=files,
        clock=clock,
        tokens=tokens,
        accounts=accounts,
        verification=VerificationService(store, accounts, mailer, clock, settings),
        loans=LoanService(store, clock, settings),
        funding=FundingService(store, vault, clock),
        lifecycle=LifecycleService(store, clock),
        history=HistoryService(store),
        expiry=ExpiryService(store, clock),
        notifications=NotificationService(store, mailer, settings),
        dashboards=DashboardService(store, clock),
        idempotency=IdempotencyService(store, clock, derived_key(settings, "idempotent-request")),
        documents=DocumentService(store, files, clock),
    )
