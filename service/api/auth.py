"""Operations tagged `auth`."""

from typing import Any

from ..bootstrap import Services
from ..usecases.accounts import Session
from .views import Reply, user_view


def _session_view(session: Session) -> dict[str, Any]:
    return {
        "token": session.token,
        "token_type": "Bearer",
        "expires_in": session.expires_in,
        "user": user_view(session.user),
    }


def register_user(services: Services, body: dict[str, Any]) -> Reply:
    return _session_view(services.accounts.register(body["name"], body["email"], body["password"])), 201


def login_user(services: Services, body: dict[str, Any]) -> Reply:
    return _session_view(services.accounts.login(body["email"], body["password"])), 200


def verify_email(services: Services, body: dict[str, Any]) -> Reply:
    return _session_view(services.verification.verify(body["token"])), 200


def resend_verification(services: Services, user: str) -> Reply:
    services.verification.resend(user)
    return None, 204
