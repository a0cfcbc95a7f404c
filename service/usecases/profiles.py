"""The caller's profile changes, and finding lenders who opted in to be found."""

from ..domain.errors import StoreUnavailable
from ..domain.profiles import ProfileChange, SearchQuery
from ..domain.users import User
from ..domain.verification import require_verified
from . import existing
from .ports import LostRace, Storage
from .repositories import Page

MAX_ATTEMPTS = 10


class ProfileService:
    def __init__(self, store: Storage):
        self.store = store

    def update(self, user_id: str, change: ProfileChange) -> User:
        """The profile with `change` applied. Only verified users may opt in to search; a
        concurrent change of the profile makes this one decide again on what it wrote."""
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            user = existing(uow.users.get(user_id))
            if change.searchable:
                require_verified(user.email_verified)
            updated = change.applied_to(user)
            uow.profiles.update(user, updated)
            try:
                uow.commit(updated)
                return updated
            except LostRace:
                continue
        raise StoreUnavailable("The profile is changing too often right now; please retry.")

    def search(self, user_id: str, q: object, limit: int, cursor: str | None) -> Page:
        """One page of LenderMatch: verified callers only."""
        query = SearchQuery.parse(q)
        uow = self.store.unit_of_work()
        require_verified(existing(uow.users.get(user_id)).email_verified)
        return uow.profiles.search(query, limit, cursor)
