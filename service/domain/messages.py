"""The emails the service sends, as plain text. Links point at the frontend (`APP_BASE_URL`),
which calls the API; no link changes anything by being opened (mail scanners open links)."""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str


def verification_email(to: str, name: str, app_base_url: str, token: str) -> Email:
    link = f"{app_base_url}/verify-email?{urlencode({'token': token})}"
    return Email(
        to=to,
        subject="Confirm your email address",
        text=(
            f"Hello {name},\n\n"
            f"Confirm that this address is yours to start borrowing and lending:\n\n{link}\n\n"
            "The link works once, for 24 hours. If you did not create an account, ignore this email.\n"
        ),
    )


def invitation_email(to: str, borrower_name: str, contribution: Decimal, app_base_url: str) -> Email:
    link = f"{app_base_url}/register?{urlencode({'email': to})}"
    amount = f"{contribution:,.2f}"
    return Email(
        to=to,
        subject=f"{borrower_name} invited you to fund a loan",
        text=(
            f"{borrower_name} invited you to fund a loan with up to ${amount}.\n\n"
            f"To see the loan and decide, register with this address ({to}) and confirm it:\n\n{link}\n"
        ),
    )


def password_reset_email(to: str, name: str, app_base_url: str, token: str) -> Email:
    link = f"{app_base_url}/reset-password?{urlencode({'token': token})}"
    return Email(
        to=to,
        subject="Choose a new password",
        text=(
            f"Hello {name},\n\n"
            f"Someone asked to reset the password of your account. To choose a new one:\n\n{link}\n\n"
            "The link works once, for 30 minutes. If it was not you, ignore this email: your password "
            "stays as it is.\n"
        ),
    )
