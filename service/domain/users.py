"""Users and their roles, derived from stored state (never from token claims)."""

from dataclasses import dataclass

import re

from .errors import InvalidEmail, InvalidInput

BORROWER_ONLY = "BORROWER_ONLY"
ACTIVE_LENDER = "ACTIVE_LENDER"

# The contract's `Email` pattern, word for word (a test holds them equal): what the schema
# admits, the server accepts.
EMAIL_PATTERN = (
    r"^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_EMAIL_LENGTH = 254

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

    @property
    def user_type(self) -> str:
        """The seed's `lender-search-index` partition: lenders are searchable as such."""
        return ACTIVE_LENDER if self.is_lender else BORROWER_ONLY


def normalize_email(raw: str) -> str:
    """The canonical form of an email address (trimmed, lower case), or `INVALID_EMAIL`.

    Syntax only: deliverability is never checked, so no DNS lookups happen on a request.
    """
    email = trim(raw).lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        shown = raw[:MAX_EMAIL_LENGTH]
        raise InvalidEmail(f"'{shown}' is not a valid email address.", {"email": shown})
    return email


def trim(raw: str) -> str:
    return raw.strip(WHITESPACE)


def clean_name(raw: str, field: str = "name") -> str:
    """A display name with surrounding white space removed; it must not end up empty."""
    name = trim(raw)
    if not name:
        raise InvalidInput(f"'{field}' must not be blank.", {"field": field})
    return name
