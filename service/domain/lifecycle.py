"""Statuses, and the transition tables every status change goes through.

A change is a pair `(status, event)`; the table says the status it leads to, and a pair the
table lacks is refused with `INVALID_STATE` (409), naming the status and the action. Some
events change nothing but need a status (a loan is invited to, funded or declined only while
`PENDING`, repaid only while `ACTIVE`): their rows lead back to it. The rules the contract gives
their own codes (`ALREADY_ACCEPTED`, `INVITATION_DECLINED`, `LOAN_FULLY_FUNDED`, `LOAN_EXPIRED`)
are checked before the table is asked. New states and events are new rows.
"""

from enum import StrEnum
from typing import Generic, TypeVar

from .errors import DomainError, InvalidInput


class LoanStatus(StrEnum):
    PENDING = "PENDING"  # fundraising
    ACTIVE = "ACTIVE"  # fully funded
    CANCELLED = "CANCELLED"  # withdrawn by the borrower (final)
    EXPIRED = "EXPIRED"  # its funding deadline passed unfunded (final)
    COMPLETED = "COMPLETED"  # repaid (final)


class ParticipantStatus(StrEnum):
    PENDING = "PENDING"  # invited
    ACCEPTED = "ACCEPTED"  # funded
    DECLINED = "DECLINED"  # said no (final)
    CLOSED = "CLOSED"  # still pending when the loan was cancelled or expired (final)
    RELEASED = "RELEASED"  # accepted, then the loan was cancelled or expired: no longer counts


class DocumentStatus(StrEnum):
    PENDING_UPLOAD = "PENDING_UPLOAD"  # declared, its file not yet uploaded and checked
    AVAILABLE = "AVAILABLE"  # checked: readable by the loan's lenders


class InvitationStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its email to have a verified account
    ACTIVATED = "ACTIVATED"  # turned into that account's participation


# Each event's name is the action `INVALID_STATE` details name (the operation refused); its
# value completes the message "A loan that is ACTIVE cannot be ...".
class LoanEvent(StrEnum):
    INVITE = "invited to"
    ACCEPT = "funded"
    DECLINE = "declined"
    FULLY_FUNDED = "fully funded"
    CANCEL = "cancelled"
    EXPIRE = "expired"
    REPAY = "repaid"
    COMPLETE = "repaid in full"
    SCHEDULE = "scheduled"
    ATTACH = "given documents"


class ParticipantEvent(StrEnum):
    ACCEPT = "accepted"
    DECLINE = "declined"
    CLOSE = "closed"
    RELEASE = "released"


class InvitationEvent(StrEnum):
    ACTIVATE = "activated"


class DocumentEvent(StrEnum):
    COMPLETE = "completed"


class InvalidState(DomainError):
    code = "INVALID_STATE"

    def __init__(self, kind: str, status: StrEnum, event: StrEnum):
        details = {"status": str(status), "action": event.name.lower()}
        super().__init__(f"A {kind} that is {status} cannot be {event}.", details)


S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


class Lifecycle(Generic[S, E]):
    """One kind of thing's transition table: `(status, event) -> status`."""

    def __init__(self, kind: str, transitions: dict[tuple[S, E], S]):
        self.kind = kind
        self.transitions = transitions

    def next(self, status: S, event: E) -> S:
        try:
            return self.transitions[(status, event)]
        except KeyError:
            raise InvalidState(self.kind, status, event) from None


_PENDING, _P = LoanStatus.PENDING, ParticipantStatus
LOANS: Lifecycle[LoanStatus, LoanEvent] = Lifecycle("loan", {
    (_PENDING, LoanEvent.INVITE): _PENDING,
    (_PENDING, LoanEvent.ACCEPT): _PENDING,
    (_PENDING, LoanEvent.DECLINE): _PENDING,
    (_PENDING, LoanEvent.FULLY_FUNDED): LoanStatus.ACTIVE,
    (_PENDING, LoanEvent.CANCEL): LoanStatus.CANCELLED,
    (_PENDING, LoanEvent.EXPIRE): LoanStatus.EXPIRED,
    (LoanStatus.ACTIVE, LoanEvent.REPAY): LoanStatus.ACTIVE,
    (LoanStatus.ACTIVE, LoanEvent.COMPLETE): LoanStatus.COMPLETED,
    # Only a loan that is or may become funded has a schedule (a read: nothing changes).
    (_PENDING, LoanEvent.SCHEDULE): _PENDING,
    (LoanStatus.ACTIVE, LoanEvent.SCHEDULE): LoanStatus.ACTIVE,
    (LoanStatus.COMPLETED, LoanEvent.SCHEDULE): LoanStatus.COMPLETED,
    # Documents are attached to a loan that is not final; attaching changes no status.
    (_PENDING, LoanEvent.ATTACH): _PENDING,
    (LoanStatus.ACTIVE, LoanEvent.ATTACH): LoanStatus.ACTIVE,
})  # fmt: skip
PARTICIPANTS: Lifecycle[ParticipantStatus, ParticipantEvent] = Lifecycle("participation", {
    (_P.PENDING, ParticipantEvent.ACCEPT): _P.ACCEPTED,
    (_P.PENDING, ParticipantEvent.DECLINE): _P.DECLINED,
    (_P.PENDING, ParticipantEvent.CLOSE): _P.CLOSED,
    (_P.ACCEPTED, ParticipantEvent.RELEASE): _P.RELEASED,
})  # fmt: skip
INVITATIONS: Lifecycle[InvitationStatus, InvitationEvent] = Lifecycle("invitation", {
    (InvitationStatus.PENDING, InvitationEvent.ACTIVATE): InvitationStatus.ACTIVATED,
})  # fmt: skip


DOCUMENTS: Lifecycle[DocumentStatus, DocumentEvent] = Lifecycle("document", {
    (DocumentStatus.PENDING_UPLOAD, DocumentEvent.COMPLETE): DocumentStatus.AVAILABLE,
})  # fmt: skip


def parse_status(kind: type[S], value: object) -> S:
    """A status from storage or a constructor argument, or `INVALID_INPUT`."""
    try:
        return kind(str(value))
    except ValueError:
        raise InvalidInput(f"Not a {kind.__name__}: {value!r}.") from None
