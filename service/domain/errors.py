"""Errors the business rules raise; `service.http.errors` turns them into HTTP responses."""

from typing import Any


class DomainError(Exception):
    """A rule was broken. `code` is the contract's stable error code."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class InvalidAmount(InvalidInput):
    code = "INVALID_AMOUNT"


class InvalidEmail(InvalidInput):
    code = "INVALID_EMAIL"


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"


class InvalidToken(DomainError):
    code = "INVALID_TOKEN"


class UserExists(DomainError):
    code = "USER_EXISTS"


class AccessDenied(DomainError):
    code = "ACCESS_DENIED"


class LoanNotFound(DomainError):
    code = "LOAN_NOT_FOUND"


class AlreadyAccepted(DomainError):
    code = "ALREADY_ACCEPTED"


class LoanFullyFunded(DomainError):
    code = "LOAN_FULLY_FUNDED"


class StoreUnavailable(DomainError):
    """The table store failed, or stayed too contended to finish the operation."""

    code = "DATABASE_ERROR"


class InvitationDeclined(DomainError):
    code = "INVITATION_DECLINED"


class LoanExpired(DomainError):
    code = "LOAN_EXPIRED"
