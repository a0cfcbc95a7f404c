"""Operations tagged `user`."""

from ..context import store
from ..usecases import accounts
from ..usecases.dashboard import dashboard
from .views import user_view


def get_profile(user: str):
    return user_view(accounts.profile(store(), user)), 200


def get_dashboard(user: str):
    return dashboard(store(), user), 200
