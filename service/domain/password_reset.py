"""Password reset (OWASP's Forgot Password cheat sheet): a single-use `SecretToken` emailed
to the account's address, valid `RESET_TTL_SECONDS`; only the newest one sent works.

Asking for one answers the same, in about the same time, whether or not the address has an
account: the work differs (only an account gets a token and an email), so the answer is held
back until `ANSWER_AFTER_SECONDS` after the request began, longer than the slower path takes.
Requests are counted per address, account or not, like logins (`throttling`).
"""

from .errors import DomainError
from .throttling import LoginThrottle

RESET_TTL_SECONDS = 30 * 60
ANSWER_AFTER_SECONDS = 0.35
# At most 5 requests per address in 15 minutes; a request is never given back.
RESET_THROTTLE = LoginThrottle(5, 900, 0, "password reset requests")
REQUESTED = "If an account has this email, a link to choose a new password was sent to it."


class ResetTokenInvalid(DomainError):
    code = "RESET_TOKEN_INVALID"

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or "This reset link is not valid: it may have been used, replaced by a newer one, or expired."
        )


class InvalidCurrentPassword(DomainError):
    code = "INVALID_CURRENT_PASSWORD"

    def __init__(self) -> None:
        super().__init__("The current password is not correct.")
