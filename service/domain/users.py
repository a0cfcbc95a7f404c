"""Users and their roles, derived from stored state (never from token claims)."""

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from .errors import InvalidEmail, InvalidInput

BORROWER_ONLY = "BORROWER_ONLY"
ACTIVE_LENDER = "ACTIVE_LENDER"


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    name: str
    created_at: str
    is_borrower: bool = False
    is_lender: bool = False

    @property
    def user_type(self) -> str:
        """The seed's `lender-search-index` partition: lenders are searchable as such."""
        return ACTIVE_LENDER if self.is_lender else BORROWER_ONLY


def normalize_email(raw: str) -> str:
    """The canonical (lower-case) form of an email address, or `INVALID_EMAIL`.

    Syntax only: deliverability is never checked, so no DNS lookups happen on a request.
    """
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"'{raw}' is not a valid email address: {exc}", {"email": raw}) from None
    return checked.normalized.lower()


def clean_name(raw: str, field: str = "name") -> str:
    """A display name with surrounding white space removed; it must not end up empty."""
    name = raw.strip()
    if not name:
        raise InvalidInput(f"'{field}' must not be blank.", {"field": field})
    return name
