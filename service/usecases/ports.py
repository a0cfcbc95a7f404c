"""What the use cases need from the world, as small protocols.

The DynamoDB, KMS and SES adapters in `service.store` and the system clock implement them;
`service.bootstrap` chooses the implementations, and tests can give others. A use case opens
a unit of work, reads through its repositories (`repositories`), queues the writes it decided
on, and commits them in one transaction.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.ach import AchDetails
from ..domain.idempotency import IdempotentRequest, KeyRecord, StoredResponse
from ..domain.loans import Loan, Participant
from ..domain.messages import Email
from ..domain.users import User
from .repositories import (
    AchRecords,
    Credentials,
    Documents,
    Events,
    Invitations,
    Loans,
    Logins,
    Notifications,
    Page,
    Participants,
    Profiles,
    Repayments,
    Sessions,
    Users,
)


class LostRace(Exception):
    """A write's condition failed because something changed since it was decided. It carries
    the loan and the participation as the store found them, where it could say (else None),
    so the decision can be made again without reading them back."""

    def __init__(self, loan: Loan | None = None, participant: Participant | None = None):
        super().__init__()
        self.loan = loan
        self.participant = participant


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
