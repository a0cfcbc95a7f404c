"""Statuses, and the transition tables every status change goes through.

A change is a pair `(status, event)`; the table says the status it leads to, and a pair the
table lacks is refused with `INVALID_STATE` (409), naming the status and the action. The
rules the contract gives their own codes (`ALREADY_ACCEPTED`, `LOAN_FULLY_FUNDED`) are
checked before the table is asked. New states and events are new rows.
"""

from enum import StrEnum
from typing import Generic, TypeVar

from .errors import DomainError, InvalidInput


class LoanStatus(StrEnum):
    PENDING = "PENDING"  # fundraising
    ACTIVE = "ACTIVE"  # fully funded


class ParticipantStatus(StrEnum):
    PENDING = "PENDING"  # invited
    ACCEPTED = "ACCEPTED"  # funded


class InvitationStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its email to have a verified account
    ACTIVATED = "ACTIVATED"  # turned into that account's participation


class LoanEvent(StrEnum):
    FULLY_FUNDED = "fully funded"


class ParticipantEvent(StrEnum):
    ACCEPT = "accepted"


class InvitationEvent(StrEnum):
    ACTIVATE = "activated"


class InvalidState(DomainError):
    code = "INVALID_STATE"

    def __init__(self, kind: str, status: StrEnum, event: StrEnum):
        super().__init__(f"A {kind} that is {status} cannot be {event}.", {"status": str(status), "action": str(event)})


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


LOANS: Lifecycle[LoanStatus, LoanEvent] = Lifecycle(
    "loan",
    {
        (LoanStatus.PENDING, LoanEvent.FULLY_FUNDED): LoanStatus.ACTIVE,
    },
)
PARTICIPANTS: Lifecycle[ParticipantStatus, ParticipantEvent] = Lifecycle(
    "participation",
    {
        (ParticipantStatus.PENDING, ParticipantEvent.ACCEPT): ParticipantStatus.ACCEPTED,
    },
)
INVITATIONS: Lifecycle[InvitationStatus, InvitationEvent] = Lifecycle(
    "invitation",
    {
        (InvitationStatus.PENDING, InvitationEvent.ACTIVATE): InvitationStatus.ACTIVATED,
    },
)


def parse_status(kind: type[S], value: object) -> S:
    """A status from storage or a constructor argument, or `INVALID_INPUT`."""
    try:
        return kind(str(value))
    except ValueError:
        raise InvalidInput(f"Not a {kind.__name__}: {value!r}.") from None
