"""Mapping between domain objects and DynamoDB items (plain dicts; boto3 serialises them)."""

from dataclasses import asdict

from ..domain.ach import AchDetails
from ..domain.loans import Invitation, Loan, Participant
from ..domain.users import User

EMAIL_KEY_PREFIX = "email#"


def login_guard_key(email: str) -> str:
    """The item counting an email's login attempts (see `Store.reserve_login_attempt`)."""
    return f"login-guard#{email}"


def verification_key(token_hash: str) -> str:
    """The key of an email verification token's item (only the token's hash is stored)."""
    return f"email-verification#{token_hash}"


def email_key(email: str) -> str:
    """The key of an email's marker item in the users table (and of a participant whose
    email has no account yet): one item per email makes registration unique by email."""
    return EMAIL_KEY_PREFIX + email


def _without_none(item: dict) -> dict:
    return {key: value for key, value in item.items() if value is not None}


def user_item(user: User, password_hash: str) -> dict:
    return {
        **asdict(user),
        "user_type": user.user_type,
        "password_hash": password_hash,
        "status": "ACTIVE",
    }


def email_marker_item(user: User) -> dict:
    """`verified` says whether the owner proved the address: only then do invitations to it
    go to them."""
    return {"user_id": email_key(user.email), "owner_id": user.user_id, "verified": user.email_verified}


def verification_item(user_id: str, token_hash: str, expires_at: int) -> dict:
    return {"user_id": verification_key(token_hash), "owner_id": user_id, "expires_at": expires_at}


def to_user(item: dict) -> User:
    return User(
        user_id=item["user_id"],
        email=item["email"],
        name=item["name"],
        created_at=item["created_at"],
        is_borrower=bool(item.get("is_borrower")),
        is_lender=bool(item.get("is_lender")),
        email_verified=bool(item.get("email_verified")),
    )


def loan_item(loan: Loan) -> dict:
    """`remaining` is stored beside `total_funded` so DynamoDB's conditions can keep
    `0 <= total_funded <= amount` themselves (a condition cannot subtract)."""
    return _without_none({**asdict(loan), "remaining": loan.remaining})


def to_loan(item: dict) -> Loan:
    fields = Loan.__dataclass_fields__
    return Loan(**{key: value for key, value in item.items() if key in fields})


def participant_item(participant: Participant) -> dict:
    item = asdict(participant)
    item["lender_id"] = participant.lender_id or email_key(participant.email)
    item["registered"] = participant.registered
    return _without_none(item)


def to_participant(item: dict) -> Participant:
    fields = Participant.__dataclass_fields__
    values = {key: value for key, value in item.items() if key in fields}
    if not item.get("registered"):
        values["lender_id"] = None
    return Participant(**values)


def invitation_item(invitation: Invitation) -> dict:
    return {
        **asdict(invitation),
        "invitee_email": invitation.email,
    }


def to_invitation(item: dict) -> Invitation:
    fields = Invitation.__dataclass_fields__
    values = {key: value for key, value in item.items() if key in fields}
    values["email"] = item["invitee_email"]
    return Invitation(**values)


def ach_item(participant: Participant, ach: AchDetails, sealed_numbers: dict) -> dict:
    """The lender's bank details for one loan: the numbers only sealed (see `vault`)."""
    return {
        "user_id": participant.lender_id,
        "loan_id": participant.loan_id,
        "bank_name": ach.bank_name,
        "account_type": ach.account_type,
        "special_instructions": ach.special_instructions,
        **sealed_numbers,
        "created_at": participant.responded_at,
    }
