"""The service layer: what a user can do, each use case a method of a small service that
gets its ports (storage, vault, mailer, clock, passwords, tokens) when it is made, in
`service.bootstrap`."""

import uuid

from ..domain.errors import InvalidToken
from ..domain.users import User


def new_id() -> str:
    return str(uuid.uuid4())


def existing(user: User | None) -> User:
    """The caller, who must still exist: a signed token can outlive its user."""
    if user is None:
        raise InvalidToken("The bearer token belongs to no existing user.")
    return user
