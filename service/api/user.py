"""Operations tagged `user`."""

from ..bootstrap import Services
from .views import Reply, user_view


def get_profile(services: Services, user: str) -> Reply:
    return user_view(services.accounts.profile(user)), 200


def get_dashboard(services: Services, user: str) -> Reply:
    return services.dashboards.dashboard(user), 200
