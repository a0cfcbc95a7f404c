"""The store: every DynamoDB read and write the service makes, and nothing else.

Round trips are kept few and fixed: a loan with up to 40 lenders is created by one
BatchGetItem and one TransactWriteItems; an acceptance is one BatchGetItem and one
TransactWriteItems. No request path uses Scan.
"""

import functools
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterator, TypeVar

import boto3
from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..config import TableNames
from ..domain.ach import AchDetails
from ..domain.errors import StoreUnavailable, UserExists
from ..domain.loans import (
    ACCEPTED, ACTIVE, INVITATION_ACTIVATED, INVITATION_PENDING, PENDING, Funding, Invitation, Loan, Participant,
)
from ..domain.users import ACTIVE_LENDER, User
from ..domain.verification import VerificationToken
from . import items
from .cursor import CursorCodec

T = TypeVar("T")
# Errors are not deserialised by the resource's client: their items come as DynamoDB JSON.
_DESERIALIZE = TypeDeserializer().deserialize
BATCH_GET_LIMIT = 100

# Standard mode retries throttling and transient errors with exponential backoff and jitter.
BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=50,
)


class Contention(Exception):
    """A conditional transaction lost a race. It carries the loan and the participation as
    the transaction found them, where their conditions failed (None otherwise), so the
    decision can be made again without reading them back."""

    def __init__(self, loan: Loan | None = None, participant: Participant | None = None):
        super().__init__()
        self.loan = loan
        self.participant = participant


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


@dataclass(frozen=True)
class Membership:
    """What one BatchGetItem returns about a user and a loan: enough to authorize and to
    decide an acceptance."""

    user: User | None
    loan: Loan | None
    participant: Participant | None


def store_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Store failures surface as `DATABASE_ERROR`, never as a stack trace."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("The data store is unavailable; please retry.") from exc

    return wrapper


class Store:
    def __init__(self, tables: TableNames, cursor_key: bytes, resource: Any = None):
        self.resource = resource or boto3.resource("dynamodb", config=BOTO_CONFIG)
        # The resource's client serialises plain Python values for every operation,
        # transactions and batches included.
        self.client = self.resource.meta.client
        self.names = tables
        self._users = self.resource.Table(tables.users)
        self._loans = self.resource.Table(tables.loans)
        self._participants = self.resource.Table(tables.participants)
        self._invitations = self.resource.Table(tables.invitations)
        self._cursors = CursorCodec(cursor_key)

    # -- health -------------------------------------------------------------------------

    @store_errors
    def ping(self) -> None:
        self._users.get_item(Key={"user_id": "health#probe"})

    # -- users --------------------------------------------------------------------------

    @store_errors
    def get_user(self, user_id: str) -> User | None:
        item = self._users.get_item(Key={"user_id": user_id}, ConsistentRead=True).get("Item")
        return items.to_user(item) if item and "email" in item else None

    @store_errors
    def find_login(self, email: str) -> tuple[User, str] | None:
        """The user with this email and their password hash, via `email-index`."""
        found = self._users.query(
            IndexName="email-index", KeyConditionExpression=Key("email").eq(email), Limit=1
        )["Items"]
        return (items.to_user(found[0]), found[0]["password_hash"]) if found else None

    @store_errors
    def create_user(self, user: User, password_hash: str, verification: VerificationToken | None) -> None:
        """The user, its email marker and (unless already verified) its verification token,
        together, or `USER_EXISTS` if the email is taken."""
        user_item = items.user_item(user, password_hash)
        writes = [
            {"Put": {
                "TableName": self.names.users,
                "Item": items.email_marker_item(user),
                "ConditionExpression": "attribute_not_exists(user_id)",
            }},
            {"Put": {
                "TableName": self.names.users,
                "Item": user_item,
                "ConditionExpression": "attribute_not_exists(user_id)",
            }},
        ]
        if verification is not None:
            user_item.update(verification_hash=verification.hash,
                             verification_sent_at=_number(verification.issued_at))
            writes.append({"Put": {
                "TableName": self.names.users,
                "Item": items.verification_item(user.user_id, verification.hash, verification.expires_at),
                "ConditionExpression": "attribute_not_exists(user_id)",
            }})
        try:
            self._transact(writes)
        except self.client.exceptions.TransactionCanceledException as exc:
            if _reasons(exc)[0] == "ConditionalCheckFailed":
                raise UserExists("An account with this email already exists.") from None
            raise

    # -- email verification -------------------------------------------------------------

    @store_errors
    def find_verification(self, token_hash: str) -> tuple[str, float] | None:
        """The user a verification token was issued to, and when it expires."""
        item = self._users.get_item(Key={"user_id": items.verification_key(token_hash)},
                                    ConsistentRead=True).get("Item")
        return (item["owner_id"], float(item["expires_at"])) if item else None

    @store_errors
    def confirm_email(self, user: User, token_hash: str) -> bool:
        """Spend the token and mark the user and their email verified, together; False if the
        token is spent or no longer the user's latest."""
        try:
            self._transact([
                {"Delete": {
                    "TableName": self.names.users, "Key": {"user_id": items.verification_key(token_hash)},
                    "ConditionExpression": "owner_id = :user",
                    "ExpressionAttributeValues": {":user": user.user_id},
                }},
                {"Update": {
                    "TableName": self.names.users, "Key": {"user_id": user.user_id},
                    "UpdateExpression": "SET email_verified = :true REMOVE verification_hash",
                    "ConditionExpression": "verification_hash = :hash",
                    "ExpressionAttributeValues": {":true": True, ":hash": token_hash},
                }},
                {"Update": {
                    "TableName": self.names.users, "Key": {"user_id": items.email_key(user.email)},
                    "UpdateExpression": "SET verified = :true",
                    "ConditionExpression": "owner_id = :user",
                    "ExpressionAttributeValues": {":true": True, ":user": user.user_id},
                }},
            ])
        except self.client.exceptions.TransactionCanceledException as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                return False
            raise
        return True

    @store_errors
    def renew_verification(self, user_id: str, verification: VerificationToken,
                           sent_before: float) -> tuple[bool, float]:
        """Make `verification` the user's only valid token, if they are not verified yet and
        their last one was sent before `sent_before`: `(True, now)`, or `(False, when the
        last one was sent)` (infinity if the user is verified already)."""
        try:
            self._transact([
                {"Update": {
                    "TableName": self.names.users, "Key": {"user_id": user_id},
                    "UpdateExpression": "SET verification_hash = :hash, verification_sent_at = :now",
                    "ConditionExpression": "email_verified = :false AND (attribute_not_exists(verification_sent_at)"
                                           " OR verification_sent_at < :before)",
                    "ExpressionAttributeValues": {
                        ":hash": verification.hash, ":now": _number(verification.issued_at),
                        ":false": False, ":before": _number(sent_before),
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }},
                {"Put": {
                    "TableName": self.names.users,
                    "Item": items.verification_item(user_id, verification.hash, verification.expires_at),
                }},
            ])
        except self.client.exceptions.TransactionCanceledException as exc:
            reason = exc.response.get("CancellationReasons", [{}])[0]
            if reason.get("Code") != "ConditionalCheckFailed":
                raise
            found = {k: _DESERIALIZE(v) for k, v in reason.get("Item", {}).items()}
            verified = found.get("email_verified", True)
            return False, float("inf") if verified else float(found.get("verification_sent_at", 0))
        return True, verification.issued_at

    # -- login throttling ---------------------------------------------------------------

    @store_errors
    def reserve_login_attempt(self, email: str, now: float, limit: int, window_seconds: int,
                              expires_at: int) -> tuple[int | None, float]:
        """Count one login attempt for `email`, atomically and before its password is
        checked: `(its number in the window, when the window ends)`, or `(None, window end)`
        when the window already holds `limit` attempts. A window opens at the first attempt
        after the last one ended."""
        key = {"user_id": items.login_guard_key(email)}
        clock = {":now": _number(now), ":expires": expires_at}
        for _ in range(3):
            try:
                updated = self._users.update_item(
                    Key=key, UpdateExpression="ADD attempts :one SET expires_at = :expires",
                    ConditionExpression="window_ends > :now AND attempts < :limit",
                    ExpressionAttributeValues={**clock, ":one": 1, ":limit": limit},
                    ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )["Attributes"]
                return int(updated["attempts"]), float(updated["window_ends"])
            except self.client.exceptions.ConditionalCheckFailedException as exc:
                found = {k: _DESERIALIZE(v) for k, v in exc.response.get("Item", {}).items()}
            if found and float(found["window_ends"]) > now:
                return None, float(found["window_ends"])
            try:
                self._users.update_item(
                    Key=key, UpdateExpression="SET attempts = :one, window_ends = :ends, expires_at = :expires",
                    ConditionExpression="attribute_not_exists(window_ends) OR window_ends <= :now",
                    ExpressionAttributeValues={**clock, ":one": 1, ":ends": _number(now + window_seconds)},
                )
                return 1, now + window_seconds
            except self.client.exceptions.ConditionalCheckFailedException:
                continue  # another attempt opened the window first: count in it
        raise StoreUnavailable("The data store is too busy; please retry.")

    @store_errors
    def lock_login(self, email: str, until: float, expires_at: int) -> None:
        """Keep the window (full of failures) closed until `until`."""
        self._users.update_item(
            Key={"user_id": items.login_guard_key(email)},
            UpdateExpression="SET window_ends = :until, expires_at = :expires",
            ExpressionAttributeValues={":until": _number(until), ":expires": expires_at},
        )

    @store_errors
    def release_login_attempt(self, email: str) -> None:
        """A successful login gives its attempt back; the failures stay counted."""
        try:
            self._users.update_item(
                Key={"user_id": items.login_guard_key(email)},
                UpdateExpression="ADD attempts :minus_one",
                ConditionExpression="attempts > :zero",
                ExpressionAttributeValues={":minus_one": -1, ":zero": 0},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # a new window opened meanwhile: nothing of this attempt is left to give back

    # -- loans --------------------------------------------------------------------------

    @store_errors
    def load_borrower(self, user_id: str, emails: list[str]) -> tuple[User | None, dict[str, str]]:
        """The borrower and, for each email with a verified account, its user id: one read."""
        keys = [{"user_id": user_id}] + [{"user_id": items.email_key(e)} for e in emails]
        found = self._batch_get({self.names.users: keys})[self.names.users]
        borrower = next((items.to_user(i) for i in found if i["user_id"] == user_id), None)
        # Only owners who proved the address get its invitations (see `domain.verification`).
        owners = {
            i["user_id"].removeprefix(items.EMAIL_KEY_PREFIX): i["owner_id"]
            for i in found if "owner_id" in i and i.get("verified")
        }
        return borrower, owners

    @store_errors
    def create_loan(self, loan: Loan, participants: list[Participant],
                    invitations: list[Invitation], borrower: User) -> None:
        """The loan, its participants and invitations, and the role flags they confer,
        in one transaction (at most 2 + 2 × 40 items)."""
        users = self.names.users
        writes: list[dict] = [
            {"Put": {"TableName": self.names.loans, "Item": items.loan_item(loan),
                     "ConditionExpression": "attribute_not_exists(loan_id)"}},
            {"Update": {
                "TableName": users, "Key": {"user_id": borrower.user_id},
                "UpdateExpression": "SET is_borrower = :true",
                "ConditionExpression": "attribute_exists(user_id)",
                "ExpressionAttributeValues": {":true": True},
            }},
        ]
        writes += [
            {"Put": {"TableName": self.names.participants, "Item": items.participant_item(p)}}
            for p in participants
        ]
        writes += [self._make_lender(p.lender_id) for p in participants if p.registered]
        writes += [
            {"Put": {"TableName": self.names.invitations, "Item": items.invitation_item(i)}}
            for i in invitations
        ]
        self._transact(writes)

    def _make_lender(self, user_id: str) -> dict:
        return {"Update": {
            "TableName": self.names.users, "Key": {"user_id": user_id},
            "UpdateExpression": "SET is_lender = :true, user_type = :lender",
            "ConditionExpression": "attribute_exists(user_id)",
            "ExpressionAttributeValues": {":true": True, ":lender": ACTIVE_LENDER},
        }}

    @store_errors
    def load_membership(self, loan_id: str, user_id: str) -> Membership:
        """The user, the loan and the user's participation in it, in one consistent read."""
        found = self._batch_get({
            self.names.users: [{"user_id": user_id}],
            self.names.loans: [{"loan_id": loan_id}],
            self.names.participants: [{"loan_id": loan_id, "lender_id": user_id}],
        })
        user = found[self.names.users]
        loan = found[self.names.loans]
        participant = found[self.names.participants]
        return Membership(
            user=items.to_user(user[0]) if user else None,
            loan=items.to_loan(loan[0]) if loan else None,
            participant=items.to_participant(participant[0]) if participant else None,
        )

    @store_errors
    def loans_by_id(self, loan_ids: set[str]) -> list[Loan]:
        keys = [{"loan_id": loan_id} for loan_id in sorted(loan_ids)]
        return [items.to_loan(i) for i in self._batch_get({self.names.loans: keys})[self.names.loans]]

    @store_errors
    def participants_of(self, loan_id: str) -> list[Participant]:
        return [
            items.to_participant(i)
            for i in self._query_all(self._participants, KeyConditionExpression=Key("loan_id").eq(loan_id),
                                     ConsistentRead=True)
        ]

    @store_errors
    def loans_of_borrower(self, borrower_id: str, limit: int, cursor: str | None) -> Page:
        """One page of the borrower's loans, newest first."""
        scope = f"borrower-loans:{borrower_id}"
        response = self._loans.query(
            IndexName="borrower-loans-index",
            KeyConditionExpression=Key("borrower_id").eq(borrower_id),
            ScanIndexForward=False,
            Limit=limit,
            **self._start(cursor, scope),
        )
        return Page(
            [items.to_loan(i) for i in response["Items"]],
            self._cursors.encode(response.get("LastEvaluatedKey"), scope),
        )

    @store_errors
    def all_loans_of_borrower(self, borrower_id: str) -> list[Loan]:
        return [
            items.to_loan(i)
            for i in self._query_all(self._loans, IndexName="borrower-loans-index",
                                     KeyConditionExpression=Key("borrower_id").eq(borrower_id))
        ]

    # -- lenders ------------------------------------------------------------------------

    @store_errors
    def pending_participations(self, lender_id: str, limit: int, cursor: str | None
                               ) -> tuple[User | None, Page]:
        """The lender and one page of their pending participations, each with its loan."""
        scope = f"lender-pending:{lender_id}"
        response = self._participants.query(
            IndexName="lender-status-index",
            KeyConditionExpression=Key("lender_id").eq(lender_id) & Key("status").eq(PENDING),
            Limit=limit,
            **self._start(cursor, scope),
        )
        participations = [items.to_participant(i) for i in response["Items"]]
        found = self._batch_get({
            self.names.users: [{"user_id": lender_id}],
            self.names.loans: [{"loan_id": p.loan_id} for p in participations],
        })
        user = found[self.names.users]
        loans = {i["loan_id"]: items.to_loan(i) for i in found[self.names.loans]}
        # Invitations to loans others have fully funded can no longer be accepted.
        page = Page(
            [(p, loans[p.loan_id]) for p in participations
             if p.loan_id in loans and loans[p.loan_id].status == PENDING],
            self._cursors.encode(response.get("LastEvaluatedKey"), scope),
        )
        return (items.to_user(user[0]) if user else None), page

    @store_errors
    def all_participations(self, lender_id: str) -> list[Participant]:
        return [
            items.to_participant(i)
            for i in self._query_all(self._participants, IndexName="lender-status-index",
                                     KeyConditionExpression=Key("lender_id").eq(lender_id))
        ]

    @store_errors
    def record_acceptance(self, funding: Funding, ach: AchDetails, sealed_numbers: dict) -> None:
        """Apply one acceptance atomically, or raise `Contention` with the items as they are.

        The conditions hold the funding invariants in DynamoDB itself, from the stored figures
        and the amount being funded alone, whatever `funding` claims about the loan: after the
        write `0 <= total_funded <= amount` (through `remaining`, which every write keeps equal
        to `amount - total_funded`), the loan is ACTIVE exactly when nothing remains, the
        amount is more than nothing and at most the lender's invited contribution, and the
        participation was pending. A write that leaves room needs only that room, not the
        total it read, so concurrent acceptances of full contributions all commit; the write
        that completes the loan needs exactly what remains.
        """
        loan, participant = funding.loan, funding.participant
        completes = loan.status == ACTIVE
        set_loan = "SET total_funded = total_funded + :funded, remaining = remaining - :funded, updated_at = :now"
        room = "remaining = :funded" if completes else "remaining > :funded"
        if completes:
            set_loan += ", #status = :active, activated_at = :now"
        values = {
            ":funded": participant.funded_amount, ":minus_funded": -participant.funded_amount,
            ":now": participant.responded_at, ":pending": PENDING,
            **({":active": ACTIVE} if completes else {}),
        }
        try:
            self._transact([
                {"Update": {
                    "TableName": self.names.loans, "Key": {"loan_id": loan.loan_id},
                    "UpdateExpression": set_loan,
                    "ConditionExpression": f"#status = :pending AND {room} AND total_funded >= :minus_funded",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }},
                {"Update": {
                    "TableName": self.names.participants,
                    "Key": {"loan_id": loan.loan_id, "lender_id": participant.lender_id},
                    "UpdateExpression": "SET #status = :accepted, funded_amount = :funded, responded_at = :now",
                    "ConditionExpression": "#status = :pending AND funded_amount < :funded"
                                           " AND contribution_amount >= :funded",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":accepted": ACCEPTED, ":funded": participant.funded_amount,
                        ":now": participant.responded_at, ":pending": PENDING,
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }},
                {"Put": {
                    "TableName": self.names.ach_details,
                    "Item": items.ach_item(participant, ach, sealed_numbers),
                    "ConditionExpression": "attribute_not_exists(user_id)",
                }},
            ])
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if not {r.get("Code", "None") for r in reasons} <= {"ConditionalCheckFailed", "TransactionConflict", "None"}:
                raise
            raise Contention(*(self._current(reason, convert) for reason, convert in
                               zip(reasons, (items.to_loan, items.to_participant)))) from None

    def _current(self, reason: dict, convert: Callable[[dict], T]) -> T | None:
        """The item a cancelled transaction found, when its condition is what failed."""
        if reason.get("Code") != "ConditionalCheckFailed" or "Item" not in reason:
            return None
        return convert({key: _DESERIALIZE(value) for key, value in reason["Item"].items()})

    # -- invitations --------------------------------------------------------------------

    @store_errors
    def pending_invitations(self, email: str) -> list[Invitation]:
        return [
            items.to_invitation(i)
            for i in self._query_all(
                self._invitations, IndexName="invitee-email-index",
                KeyConditionExpression=Key("invitee_email").eq(email) & Key("status").eq(INVITATION_PENDING),
            )
        ]

    @store_errors
    def activate_invitation(self, invitation: Invitation, user: User, now: str) -> bool:
        """Turn an invitation into the user's participation; False if it was already
        activated (a concurrent login got there first)."""
        participant = invitation.participant_for(user.user_id)
        try:
            self._transact([
                {"Update": {
                    "TableName": self.names.invitations,
                    "Key": {"invitation_id": invitation.invitation_id},
                    "UpdateExpression": "SET #status = :activated, activated_at = :now, invitee_id = :user",
                    "ConditionExpression": "#status = :pending",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":activated": INVITATION_ACTIVATED, ":pending": INVITATION_PENDING,
                        ":now": now, ":user": user.user_id,
                    },
                }},
                {"Delete": {
                    "TableName": self.names.participants,
                    "Key": {"loan_id": invitation.loan_id, "lender_id": items.email_key(invitation.email)},
                }},
                {"Put": {
                    "TableName": self.names.participants, "Item": items.participant_item(participant),
                    "ConditionExpression": "attribute_not_exists(lender_id)",
                }},
                self._make_lender(user.user_id),
            ])
        except self.client.exceptions.TransactionCanceledException as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                return False
            raise
        return True

    # -- helpers ------------------------------------------------------------------------

    def _transact(self, writes: list[dict]) -> None:
        """One TransactWriteItems. The token makes botocore's retries of it idempotent: a
        retry after a lost response returns the first success instead of failing on it."""
        self.client.transact_write_items(TransactItems=writes, ClientRequestToken=str(uuid.uuid4()))

    def _start(self, cursor: str | None, scope: str) -> dict:
        start = self._cursors.decode(cursor, scope)
        return {"ExclusiveStartKey": start} if start else {}

    def _query_all(self, table: Any, **query: Any) -> Iterator[dict]:
        while True:
            response = table.query(**query)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _batch_get(self, keys_by_table: dict[str, list[dict]]) -> dict[str, list[dict]]:
        """Consistent BatchGetItem in requests of at most 100 keys, retrying what DynamoDB
        leaves unprocessed."""
        found: dict[str, list[dict]] = {table: [] for table in keys_by_table}
        pairs = [(table, key) for table, keys in keys_by_table.items() for key in keys]
        for start in range(0, len(pairs), BATCH_GET_LIMIT):
            request: dict[str, dict] = {}
            for table, key in pairs[start:start + BATCH_GET_LIMIT]:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
            for _ in range(5):
                response = self.client.batch_get_item(RequestItems=request)
                for table, table_items in response["Responses"].items():
                    found[table] += table_items
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise StoreUnavailable("The data store is too busy; please retry.")
        return found


def _number(seconds: float) -> Decimal:
    """Epoch seconds to the millisecond, as DynamoDB stores numbers."""
    return Decimal(str(round(seconds, 3)))


def _reasons(exc: ClientError) -> list[str]:
    return [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]
