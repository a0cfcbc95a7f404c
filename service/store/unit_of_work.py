"""The unit of work: reads through the repositories, writes gathered into one
TransactWriteItems.

A use case opens one, reads what it needs, queues the writes it decided on (from as many
aggregates as the change touches) and commits them together: DynamoDB applies all or none.
When a condition fails, the commit raises the error that write names for it (made from the
item as DynamoDB found it), so a refusal reads as the domain's answer; an unexplained
conflict raises `LostRace`, to decide again.
"""

from ..domain.lifecycle import LoanStatus
from ..domain.users import User
from ..usecases.ports import NO_OUTCOME, PENDING_KEY, LostRace, Membership
from ..usecases.repositories import Page
from .ach import AchRecordsTable
from .aws import Database, Write, cancellation_reasons, plain, store_errors
from .credentials import CredentialRecords
from .cursors import CursorCodec
from .documents import DocumentRecords
from .events import EventRecords
from .idempotency import IdempotencyRecords
from .invitations import InvitationRecords
from .loan_items import loan_key, to_loan
from .loans import LoanRecords
from .login_guard import RESETS, LoginGuard
from .notifications import NotificationRecords
from .participants import ParticipantRecords, participant_key, to_participant
from .profiles import ProfileRecords
from .repayments import RepaymentRecords
from .sessions import SessionRecords
from .users import EMAIL_KEY_PREFIX, UserRecords, email_key, to_user

# DynamoDB's limit on the items of one TransactWriteItems.
MAX_TRANSACTION_ITEMS = 100


class TransactionTooLarge(RuntimeError):
    """A use case queued more writes than one transaction holds: a bug, not a user's error."""


class DynamoUnitOfWork:
    def __init__(self, db: Database, cursors: CursorCodec, idempotency: IdempotencyRecords):
        self._db = db
        self._idempotency = idempotency
        self._writes: list[Write] = []
        self.users = UserRecords(db, self._writes)
        self.credentials = CredentialRecords(db, self._writes)
        self.sessions = SessionRecords(db, self._writes)
        self.profiles = ProfileRecords(db, self._writes, cursors)
        self.logins = LoginGuard(db)
        self.reset_requests = LoginGuard(db, RESETS)
        self.events = EventRecords(db, self._writes, cursors)
        self.loans = LoanRecords(db, self._writes, cursors, self.events)
        self.participants = ParticipantRecords(db, self._writes, cursors)
        self.invitations = InvitationRecords(db, self._writes)
        self.ach = AchRecordsTable(db, self._writes)
        self.notifications = NotificationRecords(db, self._writes, cursors)
        self.repayments = RepaymentRecords(db, self._writes, cursors)
        self.documents = DocumentRecords(db, self._writes)

    # -- reads across aggregates, one round trip each ------------------------------------

    @store_errors
    def membership(self, loan_id: str, user_id: str) -> Membership:
        """The user, the loan and the user's participation in it, in one consistent read."""
        names = self._db.names
        found = self._db.batch_get(
            {
                names.users: [{"user_id": user_id}],
                names.loans: [loan_key(loan_id)],
                names.participants: [participant_key(loan_id, user_id)],
            }
        )
        user, loan, participant = found[names.users], found[names.loans], found[names.participants]
        return Membership(
            user=to_user(user[0]) if user else None,
            loan=to_loan(loan[0]) if loan else None,
            participant=to_participant(participant[0]) if participant else None,
        )

    @store_errors
    def borrower_and_owners(self, user_id: str, emails: list[str]) -> tuple[User | None, dict[str, str]]:
        """The borrower and, for each email with a verified account, its user id: one read."""
        users = self._db.names.users
        keys = [{"user_id": user_id}] + [{"user_id": email_key(e)} for e in emails]
        found = self._db.batch_get({users: keys})[users]
        borrower = next((to_user(i) for i in found if i["user_id"] == user_id), None)
        # Only owners who proved the address get its invitations (see `domain.verification`).
        owners = {
            i["user_id"].removeprefix(EMAIL_KEY_PREFIX): i["owner_id"]
            for i in found
            if "owner_id" in i and i.get("verified")
        }
        return borrower, owners

    @store_errors
    def pending_participations(self, lender_id: str, limit: int, cursor: str | None) -> tuple[User | None, Page]:
        """The lender and one page of their pending participations, each with its loan; those
        whose loan is no longer PENDING are left out of the page."""
        participations, next_cursor = self.participants.pending_page(lender_id, limit, cursor)
        names = self._db.names
        found = self._db.batch_get(
            {
                names.users: [{"user_id": lender_id}],
                names.loans: [loan_key(p.loan_id) for p in participations],
            }
        )
        loans = {item["loan_id"]: to_loan(item) for item in found[names.loans]}
        open_ = [
            (p, loans[p.loan_id])
            for p in participations
            if p.loan_id in loans and loans[p.loan_id].status == LoanStatus.PENDING
        ]
        user = found[names.users]
        return (to_user(user[0]) if user else None), Page(open_, next_cursor)

    # -- commit --------------------------------------------------------------------------

    @store_errors
    def commit(self, outcome: object = NO_OUTCOME) -> None:
        writes, self._writes[:] = list(self._writes), []
        if not writes:
            return
        pending, response = PENDING_KEY.get(), None
        if pending is not None and pending.response is None and outcome is not NO_OUTCOME:
            # An idempotent request's effect and its key's completion commit together.
            response = pending.render(outcome)
            writes.append(self._idempotency.completion(pending, response))
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLarge(
                f"One unit of work may write at most {MAX_TRANSACTION_ITEMS} items; this one has {len(writes)}."
            )
        try:
            self._db.transact([write.request for write in writes])
        except self._db.client.exceptions.TransactionCanceledException as exc:
            reasons = cancellation_reasons(exc)
            for write, reason in zip(writes, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise write.conflict(plain(reason.get("Item"))) from None
            if {reason.get("Code", "None") for reason in reasons} <= {"TransactionConflict", "None"}:
                raise LostRace() from None
            raise
        if pending is not None and response is not None:
            pending.response = response  # the key is completed
