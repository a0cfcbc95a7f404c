"""Operations tagged `user`."""

from typing import Any

from ..bootstrap import Services
from ..domain.profiles import ProfileChange
from ..domain.users import User
from ..http.idempotency import idempotently
from .views import Reply, lender_view, notification_view, page_view, user_view


def get_profile(services: Services, user: str) -> Reply:
    return user_view(services.accounts.profile(user)), 200


def update_profile(services: Services, user: str, body: dict[str, Any]) -> Reply:
    def update() -> User:
        return services.profiles.update(user, ProfileChange.from_request(body))

    return idempotently(services, update, lambda updated: (user_view(updated), 200), user, body)


def search_lenders(
    services: Services, user: str, q: str | None = None, limit: int = 20, cursor: str | None = None
) -> Reply:
    page = services.profiles.search(user, q, limit, cursor)
    return page_view([lender_view(lender) for lender in page.items], page.next_cursor), 200


def get_dashboard(services: Services, user: str) -> Reply:
    return services.dashboards.dashboard(user), 200


def get_notifications(
    services: Services, user: str, limit: int = 20, cursor: str | None = None, unread: bool = False
) -> Reply:
    page = services.notifications.inbox(user, unread, limit, cursor)
    return page_view([notification_view(notice, read) for notice, read in page.items], page.next_cursor), 200


def mark_notifications_read(services: Services, user: str, body: dict[str, Any]) -> Reply:
    def mark() -> int:
        return services.notifications.mark_read(user, list(body["notification_ids"]))

    return idempotently(services, mark, lambda marked: ({"marked": marked}, 200), user, body)


def change_password(services: Services, user: str, body: dict[str, Any]) -> Reply:
    def change() -> None:
        services.passwords.change(user, body["current_password"], body["new_password"])

    return idempotently(services, change, lambda _: (None, 204), user, body)
