"""Users and their roles, derived from stored state (never from token claims)."""

import re
from dataclasses import dataclass

from .errors import InvalidEmail, InvalidInput

# The contract's `Email` pattern, word for word (a test holds them equal): what the schema
# admits, the server accepts.
EMAIL_PATTERN = (
    r"^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
# Passwords are pre-hashed before bcrypt (see `service.security`), so every character counts.
MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH = 8, 128

# White space as ECMAScript's `\s` defines it, which client generators and fuzzers share.
# Python's `str.strip()` and `\s` also count U+001C..U+001F, so both are spelled out here.
WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# The contract's pattern for a field that must not be blank (a test holds them equal).
NOT_BLANK_PATTERN = r"[^\t\n\u000b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_EMAIL = re.compile(EMAIL_PATTERN)


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    name: str
    created_at: str
    is_borrower: bool = False
    is_lender: bool = False
    # Until the user proves they own `email`, they may not lend or borrow (see `verification`).
    email_verified: bool = False
    # Bumped to refuse every access token issued before, and to end every session (`sessions`).
    token_version: int = 0
    session_version: int = 0
    # Whether lenders' search lists this user (they opted in; only verified users can).
    searchable: bool = False

    def __post_init__(self) -> None:
        if normalize_email(self.email) != self.email:
            raise InvalidEmail("A user's email must be in its normal form.", {"email": self.email})
        if clean_name(self.name) != self.name:
            raise InvalidInput("A user's name must not start or end with white space.", {"field": "name"})


def normalize_email(raw: object) -> str:
    """The canonical form of an email address (trimmed, lower case), or `INVALID_EMAIL`.

    Syntax only: deliverability is never checked, so no DNS lookups happen on a request.
    """
    if not isinstance(raw, str):
        raise InvalidEmail("An email address must be a string.", {"field": "email"})
    email = trim(raw).lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        shown = raw[:MAX_EMAIL_LENGTH]
        raise InvalidEmail(f"'{shown}' is not a valid email address.", {"email": shown})
    return email


def trim(raw: object, field: str = "text", max_length: int | None = None) -> str:
    """`raw` without surrounding white space; it must be a string of at most `max_length`."""
    if not isinstance(raw, str):
        raise InvalidInput(f"'{field}' must be a string.", {"field": field})
    text = raw.strip(WHITESPACE)
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(f"'{field}' must be at most {max_length} characters long.", {"field": field})
    return text


def clean_name(raw: object, field: str = "name", max_length: int = MAX_NAME_LENGTH) -> str:
    """A display name with surrounding white space removed; it must not end up empty."""
    name = trim(raw, field, max_length)
    if not name:
        raise InvalidInput(f"'{field}' must not be blank.", {"field": field})
    return name


def check_password(password: object) -> str:
    """A password the service accepts: a string of 8 to 128 characters."""
    if not isinstance(password, str):
        raise InvalidInput("'password' must be a string.", {"field": "password"})
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"'password' must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long.",
            {"field": "password"},
        )
    return password
