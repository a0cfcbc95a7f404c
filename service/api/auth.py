"""Operations tagged `auth`."""

from ..context import mailer, settings, store
from ..usecases import accounts, verification
from .views import user_view


def _session_view(session: accounts.Session) -> dict:
    return {
        "token": session.token,
        "token_type": "Bearer",
        "expires_in": session.expires_in,
        "user": user_view(session.user),
    }


def register_user(body: dict):
    session = accounts.register(store(), mailer(), settings(), body["name"], body["email"], body["password"])
    return _session_view(session), 201


def login_user(body: dict):
    session = accounts.login(store(), settings(), body["email"], body["password"])
    return _session_view(session), 200


def verify_email(body: dict):
    return _session_view(verification.verify_email(store(), settings(), body["token"])), 200


def resend_verification(user: str):
    verification.resend_verification(store(), mailer(), settings(), user)
    return None, 204
