"""What the use cases need from the world, as small protocols.

The DynamoDB, KMS and SES adapters in `service.store` and the system clock implement them;
`service.bootstrap` chooses the implementations, and tests can give others. A use case opens
a unit of work, reads through its repositories, queues the writes it decided on, and commits
them in one transaction.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.ach import AchDetails
from ..domain.closing import Closing
from ..domain.documents import Document
from ..domain.events import LoanEventRecord
from ..domain.funding import Funding
from ..domain.idempotency import IdempotentRequest, KeyRecord, StoredResponse
from ..domain.invitations import Invitation
from ..domain.loans import Loan, Participant
from ..domain.messages import Email
from ..domain.notifications import Notice
from ..domain.profiles import SearchQuery
from ..domain.repayments import Recorded, Repayment
from ..domain.schedule import Schedule
from ..domain.secret_tokens import SecretToken
from ..domain.sessions import Family, StoredRefresh
from ..domain.users import User


class LostRace(Exception):
    """A write's condition failed because something changed since it was decided. It carries
    the loan and the participation as the store found them, where it could say (else None),
    so the decision can be made again without reading them back."""

    def __init__(self, loan: Loan | None = None, participant: Participant | None = None):
        super().__init__()
        self.loan = loan
        self.participant = participant


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


@dataclass(frozen=True)
class Membership:
    """A user, a loan and the user's participation in it, read together."""

    user: User | None
    loan: Loan | None
    participant: Participant | None


@dataclass
class PendingKey:
    """The idempotent request this thread is serving (`PENDING_KEY`). The unit of work that
    commits its effect completes the key in the same transaction, with the response rendered
    from the outcome the use case commits with; `response` says it did."""

    request: IdempotentRequest
    owner: str
    now: float
    render: Callable[[Any], StoredResponse]
    response: StoredResponse | None = None


PENDING_KEY: ContextVar[PendingKey | None] = ContextVar("pending_idempotency_key", default=None)
# `commit()` without an outcome: not the commit that answers the request (a follow-up one).
NO_OUTCOME: Any = object()


class Users(Protocol):
    def get(self, user_id: str) -> User | None: ...
    def find_login(self, email: str) -> tuple[User, str] | None: ...
    def find_verification(self, token_hash: str) -> tuple[str, float] | None: ...
    # Writes, committed with the unit of work:
    def add(self, user: User, password_hash: str, verification: SecretToken | None) -> None: ...
    def confirm_email(self, user: User, token_hash: str) -> None: ...
    def renew_verification(self, user_id: str, verification: SecretToken, sent_before: float) -> None: ...
    def make_borrower(self, user_id: str) -> None: ...
    def make_lender(self, user_id: str) -> None: ...


class Credentials(Protocol):
    """Passwords and reset tokens; setting a password ends every session (`domain.sessions`)."""

    def find_credentials(self, user_id: str) -> tuple[User, str] | None: ...
    def find_reset(self, token_hash: str) -> tuple[str, float] | None: ...
    # Writes, committed with the unit of work:
    def renew_reset(self, user_id: str, reset: SecretToken) -> None: ...
    def reset_password(self, user: User, token_hash: str, password_hash: str) -> None: ...
    def change_password(self, user_id: str, password_hash: str) -> None: ...
    def revoke_access(self, user_id: str) -> None: ...


class Sessions(Protocol):
    """Refresh tokens and their families (`domain.sessions`)."""

    def find(self, token_hash: str) -> tuple[StoredRefresh | None, Family | None]: ...
    def family(self, family_id: str) -> Family | None: ...
    # Writes, committed with the unit of work:
    def start(self, family: Family, token: SecretToken) -> None: ...
    def rotate(self, spent_hash: str, family: Family, token: SecretToken, grace_start: float) -> None: ...
    def revoke(self, family_id: str) -> None: ...
    def keep(self, family_id: str, version: int) -> None: ...


class Profiles(Protocol):
    def search(self, query: SearchQuery, limit: int, cursor: str | None) -> Page:
        """LenderMatch items, by name."""

    # Committed with the unit of work:
    def update(self, before: User, after: User) -> None: ...


class Logins(Protocol):
    """Attempt counters (logins; password reset requests): each call is atomic on its own,
    outside any unit of work."""

    def reserve_login_attempt(
        self, email: str, now: float, limit: int, window_seconds: int, expires_at: int
    ) -> tuple[int | None, float]: ...
    def lock_login(self, email: str, until: float, expires_at: int) -> None: ...
    def release_login_attempt(self, email: str) -> None: ...


class Loans(Protocol):
    """Every write that changes a loan records its events, in the same transaction."""

    def get_many(self, loan_ids: set[str]) -> list[Loan]: ...
    def page_of_borrower(self, borrower_id: str, limit: int, cursor: str | None) -> Page: ...
    def all_of_borrower(self, borrower_id: str) -> list[Loan]: ...
    def past_deadline(self, now: str, limit: int) -> list[str]: ...
    def add(self, loan: Loan, lenders: int, events: list[LoanEventRecord]) -> None: ...
    def record_funding(self, funding: Funding, events: list[LoanEventRecord]) -> None: ...
    def record_decline(self, loan: Loan, now: str, events: list[LoanEventRecord]) -> None: ...
    def record_invitations(
        self, loan: Loan, count: int, limit: int, now: str, events: list[LoanEventRecord]
    ) -> None: ...
    def record_closing(self, closing: Closing, invited: int, now: str, events: list[LoanEventRecord]) -> None: ...
    def record_repayment(self, recorded: Recorded, events: list[LoanEventRecord]) -> None: ...


class Repayments(Protocol):
    def add_schedule(self, loan_id: str, schedule: Schedule) -> None: ...
    def add(self, repayment: Repayment) -> None: ...
    def schedule(self, loan_id: str) -> Schedule | None: ...
    def schedules(self, loan_ids: set[str]) -> dict[str, Schedule]: ...
    def page(self, loan_id: str, limit: int, cursor: str | None) -> Page:
        """Items: `Repayment`s, in the order they were applied."""
        ...


class Events(Protocol):
    def page(self, loan_id: str, limit: int, cursor: str | None) -> Page:
        """(sequence, event) pairs, oldest first."""


class Participants(Protocol):
    def of_loan(self, loan_id: str) -> list[Participant]: ...
    def all_of_lender(self, lender_id: str) -> list[Participant]: ...
    def add(self, participant: Participant) -> None: ...
    def record_acceptance(self, participant: Participant) -> None: ...
    def record_decline(self, participant: Participant) -> None: ...
    def record_closing(self, before: Participant, after: Participant) -> None: ...
    def take_over_placeholder(self, participant: Participant) -> None: ...


class Invitations(Protocol):
    def pending_for(self, email: str) -> list[Invitation]: ...
    def add(self, invitation: Invitation) -> None: ...
    def activate(self, invitation: Invitation, user_id: str, now: str) -> None: ...


class AchRecords(Protocol):
    def add(self, participant: Participant, ach: AchDetails, sealed_numbers: dict[str, Any]) -> None: ...
    def delete(self, participant: Participant) -> None: ...


class Notifications(Protocol):
    """Each notice is put once, whatever retries, outside any transaction; marking read is
    committed with the unit of work."""

    def add(self, notice: Notice) -> bool: ...
    def page(self, user_id: str, unread: bool, limit: int, cursor: str | None) -> Page: ...
    def unread_among(self, user_id: str, notification_ids: list[str]) -> list[str]: ...
    def forget(self, notice: Notice) -> None: ...
    # Committed with the unit of work:
    def mark_read(self, user_id: str, notification_ids: list[str]) -> None: ...


class Documents(Protocol):
    """A loan's documents. Each write keeps the loan's count of documents with it, in the same
    transaction, so the limit holds in DynamoDB itself."""

    def of_loan(self, loan_id: str) -> list[Document]:
        """Oldest first."""

    def get(self, loan_id: str, document_id: str) -> Document | None: ...
    # Committed with the unit of work:
    def add(self, document: Document, abandoned: list[Document], limit: int, now: str) -> None: ...
    def record_completion(self, document: Document) -> None: ...
    def remove(self, document: Document) -> None: ...


class UnitOfWork(Protocol):
    @property
    def users(self) -> Users: ...
    @property
    def credentials(self) -> Credentials: ...
    @property
    def sessions(self) -> Sessions: ...
    @property
    def profiles(self) -> Profiles: ...
    @property
    def logins(self) -> Logins: ...
    @property
    def reset_requests(self) -> Logins: ...
    @property
    def loans(self) -> Loans: ...
    @property
    def participants(self) -> Participants: ...
    @property
    def invitations(self) -> Invitations: ...
    @property
    def ach(self) -> AchRecords: ...
    @property
    def events(self) -> Events: ...
    @property
    def notifications(self) -> Notifications: ...
    @property
    def repayments(self) -> Repayments: ...
    @property
    def documents(self) -> Documents: ...

    def membership(self, loan_id: str, user_id: str) -> Membership: ...
    def borrower_and_owners(self, user_id: str, emails: list[str]) -> tuple[User | None, dict[str, str]]: ...
    def pending_participations(self, lender_id: str, limit: int, cursor: str | None) -> tuple[User | None, Page]: ...
    def commit(self, outcome: object = NO_OUTCOME) -> None:
        """Write what was queued, in one transaction. `outcome`, when given, is what the use
        case answers if this succeeds: an idempotent request's key is completed with it, in
        the same transaction (`PendingKey`)."""


class IdempotencyKeys(Protocol):
    def take(self, request: IdempotentRequest, owner: str, now: float) -> KeyRecord | None: ...
    def complete(self, pending: PendingKey, response: StoredResponse) -> None: ...
    def release(self, pending: PendingKey) -> None: ...


class Storage(Protocol):
    @property
    def idempotency(self) -> IdempotencyKeys: ...
    def unit_of_work(self) -> UnitOfWork: ...
    def ping(self) -> None: ...


class Vault(Protocol):
    def seal(self, ach: AchDetails, user_id: str, loan_id: str) -> dict[str, Any]: ...


class Mailer(Protocol):
    def send(self, email: Email) -> bool: ...


class Passwords(Protocol):
    def hash(self, password: str) -> str: ...
    def check(self, password: str, password_hash: str | None) -> bool:
        """Constant work whether or not there is a hash (an unknown user)."""


class TokenIssuer(Protocol):
    def issue(self, user: User, now: float, session_id: str) -> str: ...


@dataclass(frozen=True)
class Caller:
    """Who the request's bearer token says is calling, the `token_version` it carries, and the
    session it was issued to (None for tokens from before sessions had ids)."""

    user_id: str
    token_version: int
    session_id: str | None = None


# Set by the HTTP layer once it has verified the request's bearer token; `usecases.existing`
# refuses the token if its user has revoked it since (the read of the user the operation makes).
CALLER: ContextVar[Caller | None] = ContextVar("caller", default=None)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""

    def timestamp(self) -> str:
        """Now in ISO 8601, UTC, with microseconds (sorts as text, which the GSIs rely on)."""
