"""Operations tagged `user`."""

from ..bootstrap import Services
from .views import user_view


def get_profile(services: Services, user: str):
    return user_view(services.accounts.profile(user)), 200


def get_dashboard(services: Services, user: str):
    return services.dashboards.dashboard(user), 200
