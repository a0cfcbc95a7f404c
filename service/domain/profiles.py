"""Profile changes, and the opt-in search for lenders by the start of their name.

Search matches a name's *search form*: case folded, accents stripped, white space runs made
one space. The index partitions by the form's first `PREFIX_LENGTH` characters (see
`infra/database.yaml`), so a query names exactly one partition and needs at least that many.
"""

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from .errors import InvalidInput
from .users import WHITESPACE, User, clean_name

PREFIX_LENGTH = 2
MAX_QUERY_LENGTH = 100
_SPACES = re.compile(f"[{re.escape(WHITESPACE)}]+")


def search_form(text: str) -> str:
    """`text` as search compares it: "  Ádám  Kovács" and "adam kovacs" are the same."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip(" ")


@dataclass(frozen=True)
class SearchQuery:
    """A name prefix in search form: the partition it lies in, and the prefix itself."""

    form: str

    @classmethod
    def parse(cls, raw: object) -> "SearchQuery":
        if not isinstance(raw, str) or len(raw) > MAX_QUERY_LENGTH:
            raise InvalidInput(f"'q' must be a string of at most {MAX_QUERY_LENGTH} characters.", {"field": "q"})
        form = search_form(raw)
        if len(form) < PREFIX_LENGTH:
            raise InvalidInput(
                f"'q' must have at least {PREFIX_LENGTH} characters besides white space and accents.", {"field": "q"}
            )
        return cls(form)

    @property
    def partition(self) -> str:
        return self.form[:PREFIX_LENGTH]

    def matches(self, name: str) -> bool:
        return search_form(name).startswith(self.form)


@dataclass(frozen=True)
class LenderMatch:
    user_id: str
    name: str
    email: str


@dataclass(frozen=True)
class ProfileChange:
    """What `PATCH /user/profile` asks to change: at least one field; None leaves it be."""

    name: str | None = None
    searchable: bool | None = None

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> "ProfileChange":
        unknown = sorted(set(body) - {"name", "searchable"})
        if unknown:
            raise InvalidInput(f"'{unknown[0]}' cannot be changed here.", {"field": unknown[0]})
        if not body:
            raise InvalidInput("Give at least one of 'name' and 'searchable'.")
        searchable = body.get("searchable")
        if searchable is not None and not isinstance(searchable, bool):
            raise InvalidInput("'searchable' must be true or false.", {"field": "searchable"})
        return cls(name=clean_name(body["name"]) if "name" in body else None, searchable=searchable)

    def applied_to(self, user: User) -> User:
        return replace(
            user,
            name=user.name if self.name is None else self.name,
            searchable=user.searchable if self.searchable is None else self.searchable,
        )
