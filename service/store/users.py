"""Users, their email markers and email verification tokens, in the users table.

The marker item `email#<address>` makes registration unique by email (it is written in the
same transaction as the user) and says whether the owner proved the address; a token item
`email-verification#<sha-256>` leads from an emailed link to its user (password reset tokens
are alike: `credentials`).
"""

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.errors import UserExists
from ..domain.secret_tokens import SecretToken
from ..domain.users import User
from ..domain.verification import InvalidVerificationToken, resend_refusal
from .aws import Database, Write, epoch, store_errors

EMAIL_KEY_PREFIX = "email#"
NEW, EXISTS = "attribute_not_exists(user_id)", "attribute_exists(user_id)"


def email_key(email: str) -> str:
    """The key of an email's marker item (and of a participant whose email has no verified
    account yet)."""
    return EMAIL_KEY_PREFIX + email


def verification_key(token_hash: str) -> str:
    return f"email-verification#{token_hash}"


def to_user(item: dict[str, Any]) -> User:
    return User(
        user_id=item["user_id"],
        email=item["email"],
        name=item["name"],
        created_at=item["created_at"],
        is_borrower=bool(item.get("is_borrower")),
        is_lender=bool(item.get("is_lender")),
        email_verified=bool(item.get("email_verified")),
        token_version=int(item.get("token_version", 0)),
        session_version=int(item.get("session_version", 0)),
        searchable=bool(item.get("searchable")),
    )


def is_user(item: dict[str, Any]) -> bool:
    """Users share the table with markers, tokens and login counters; only users have an email."""
    return "email" in item


class UserRecords:
    def __init__(self, db: Database, writes: list[Write]):
        self._db = db
        self._writes = writes
        self._table = db.table(db.names.users)
        self._name = db.names.users

    @store_errors
    def get(self, user_id: str) -> User | None:
        item = self._table.get_item(Key={"user_id": user_id}, ConsistentRead=True).get("Item")
        return to_user(item) if item and is_user(item) else None

    @store_errors
    def find_login(self, email: str) -> tuple[User, str] | None:
        """The user with this email and their password hash, via `email-index`."""
        if not email:  # all white space, trimmed away: DynamoDB refuses an empty key value
            return None
        found = self._table.query(IndexName="email-index", KeyConditionExpression=Key("email").eq(email), Limit=1)[
            "Items"
        ]
        return (to_user(found[0]), found[0]["password_hash"]) if found else None

    def find_verification(self, token_hash: str) -> tuple[str, float] | None:
        """The user a verification token was issued to, and when it expires."""
        return find_token(self._table, verification_key(token_hash))

    # -- writes -------------------------------------------------------------------------

    def add(self, user: User, password_hash: str, verification: SecretToken | None) -> None:
        """The user, its email marker and (unless verified already) its verification token,
        or `USER_EXISTS` if the email is taken."""
        user_item = {**asdict(user), "password_hash": password_hash}
        marker = {"user_id": email_key(user.email), "owner_id": user.user_id, "verified": user.email_verified}
        self._writes.append(Write.put(self._name, marker, NEW, conflict=_email_taken))
        if verification is not None:
            user_item.update(verification_hash=verification.hash, verification_sent_at=epoch(verification.issued_at))
            self._writes.append(Write.put(self._name, token_item(user.user_id, verification, verification_key), NEW))
        self._writes.append(Write.put(self._name, user_item, NEW, conflict=_email_taken))

    def confirm_email(self, user: User, token_hash: str) -> None:
        """Spend the token and mark the user and their email verified; the token must be the
        user's newest."""
        owner = {":user": user.user_id}
        self._writes += [
            Write.delete(
                self._name, {"user_id": verification_key(token_hash)}, "owner_id = :user", owner, conflict=_token_spent
            ),
            Write.update(
                self._name,
                {"user_id": user.user_id},
                "SET email_verified = :true REMOVE verification_hash",
                "verification_hash = :hash",
                {":true": True, ":hash": token_hash},
                conflict=_token_spent,
            ),
            Write.update(
                self._name,
                {"user_id": email_key(user.email)},
                "SET verified = :true",
                "owner_id = :user",
                {":true": True, **owner},
                conflict=_token_spent,
            ),
        ]

    def renew_verification(self, user_id: str, verification: SecretToken, sent_before: float) -> None:
        """Make `verification` the user's only valid token, if they are not verified and their
        last one was sent before `sent_before`."""

        def refusal(found: dict[str, Any]) -> Exception:
            verified = bool(found.get("email_verified", True))
            return resend_refusal(verified, float(found.get("verification_sent_at", 0)), verification.issued_at)

        values = {
            ":hash": verification.hash,
            ":now": epoch(verification.issued_at),
            ":false": False,
            ":before": epoch(sent_before),
        }
        condition = (
            "email_verified = :false AND (attribute_not_exists(verification_sent_at) OR verification_sent_at < :before)"
        )
        self._writes += [
            Write.update(
                self._name,
                {"user_id": user_id},
                "SET verification_hash = :hash, verification_sent_at = :now",
                condition,
                values,
                conflict=refusal,
                report=True,
            ),
            Write.put(self._name, token_item(user_id, verification, verification_key)),
        ]

    def make_borrower(self, user_id: str) -> None:
        self._writes.append(
            Write.update(self._name, {"user_id": user_id}, "SET is_borrower = :true", EXISTS, {":true": True})
        )

    def make_lender(self, user_id: str) -> None:
        self._writes.append(
            Write.update(
                self._name,
                {"user_id": user_id},
                "SET is_lender = :true",
                EXISTS,
                {":true": True},
            )
        )


def token_item(user_id: str, token: SecretToken, key: Callable[[str], str]) -> dict[str, Any]:
    """The item that leads from an emailed token (by its hash) to its user."""
    return {"user_id": key(token.hash), "owner_id": user_id, "expires_at": token.expires_at}


@store_errors
def find_token(table: Any, key: str) -> tuple[str, float] | None:
    """The user an emailed token was issued to, and when it expires."""
    item = table.get_item(Key={"user_id": key}, ConsistentRead=True).get("Item")
    return (item["owner_id"], float(item["expires_at"])) if item else None


def _email_taken(_item: dict[str, Any]) -> Exception:
    return UserExists("An account with this email already exists.")


def _token_spent(_item: dict[str, Any]) -> Exception:
    return InvalidVerificationToken(
        "This verification link is not valid: it may have been used, or replaced by a newer one."
    )
