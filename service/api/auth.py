"""Operations tagged `auth`."""

from typing import Any

from ..bootstrap import Services
from ..domain.password_reset import REQUESTED
from ..http.idempotency import idempotently
from ..usecases.sessions import Session
from .views import Reply, user_view


def _session_view(session: Session) -> dict[str, Any]:
    return {
        "token": session.token,
        "token_type": "Bearer",
        "expires_in": session.expires_in,
        "refresh_token": session.refresh_token,
        "user": user_view(session.user),
    }


def register_user(services: Services, body: dict[str, Any]) -> Reply:
    def register() -> Session:
        return services.accounts.register(body["name"], body["email"], body["password"])

    return idempotently(services, register, lambda session: (_session_view(session), 201), body=body)


def login_user(services: Services, body: dict[str, Any]) -> Reply:
    return _session_view(services.accounts.login(body["email"], body["password"])), 200


def verify_email(services: Services, body: dict[str, Any]) -> Reply:
    def verify() -> Session:
        return services.verification.verify(body["token"])

    return idempotently(services, verify, lambda session: (_session_view(session), 200), body=body)


def resend_verification(services: Services, user: str) -> Reply:
    return idempotently(services, lambda: services.verification.resend(user), lambda _: (None, 204), user)


def refresh_session(services: Services, body: dict[str, Any]) -> Reply:
    def refresh() -> Session:
        return services.sessions.refresh(body["refresh_token"])

    return idempotently(services, refresh, lambda session: (_session_view(session), 200), body=body)


def logout_user(services: Services, body: dict[str, Any]) -> Reply:
    return idempotently(
        services, lambda: services.sessions.logout(body["refresh_token"]), lambda _: (None, 204), body=body
    )


def forgot_password(services: Services, body: dict[str, Any]) -> Reply:
    def forgot() -> None:
        services.passwords.forgot(body["email"])

    return idempotently(services, forgot, lambda _: ({"message": REQUESTED}, 202), body=body)


def reset_password(services: Services, body: dict[str, Any]) -> Reply:
    def reset() -> None:
        services.passwords.reset(body["token"], body["new_password"])

    return idempotently(services, reset, lambda _: (None, 204), body=body)
