"""service.domain.lifecycle: every status change goes through a transition table; any pair the
table lacks is refused with INVALID_STATE, naming the status and the action."""

import itertools

import pytest

from service.domain.lifecycle import (
    DOCUMENTS,
    INVITATIONS,
    LOANS,
    PARTICIPANTS,
    DocumentEvent,
    DocumentStatus,
    InvalidState,
    InvitationEvent,
    InvitationStatus,
    LoanEvent,
    LoanStatus,
    ParticipantEvent,
    ParticipantStatus,
)

LIFECYCLES = [
    (LOANS, LoanStatus, LoanEvent),
    (PARTICIPANTS, ParticipantStatus, ParticipantEvent),
    (INVITATIONS, InvitationStatus, InvitationEvent),
    (DOCUMENTS, DocumentStatus, DocumentEvent),
]


def test_the_tables_say_what_the_lifecycle_allows():
    """A loan changes status while PENDING (to ACTIVE, CANCELLED or EXPIRED; invited to,
    funded or declined only then) and while ACTIVE (repaid, then COMPLETED); only a loan that
    is or may be funded has a schedule; it is given documents while it is not final. A
    participation is answered once, and closed or released with its loan. A document is
    completed once."""
    L, P = LoanStatus, ParticipantStatus
    assert LOANS.transitions == {
        (L.PENDING, LoanEvent.INVITE): L.PENDING,
        (L.PENDING, LoanEvent.ACCEPT): L.PENDING,
        (L.PENDING, LoanEvent.DECLINE): L.PENDING,
        (L.PENDING, LoanEvent.FULLY_FUNDED): L.ACTIVE,
        (L.PENDING, LoanEvent.CANCEL): L.CANCELLED,
        (L.PENDING, LoanEvent.EXPIRE): L.EXPIRED,
        (L.ACTIVE, LoanEvent.REPAY): L.ACTIVE,
        (L.ACTIVE, LoanEvent.COMPLETE): L.COMPLETED,
        (L.PENDING, LoanEvent.SCHEDULE): L.PENDING,
        (L.ACTIVE, LoanEvent.SCHEDULE): L.ACTIVE,
        (L.COMPLETED, LoanEvent.SCHEDULE): L.COMPLETED,
        (L.PENDING, LoanEvent.ATTACH): L.PENDING,
        (L.ACTIVE, LoanEvent.ATTACH): L.ACTIVE,
    }
    assert PARTICIPANTS.transitions == {
        (P.PENDING, ParticipantEvent.ACCEPT): P.ACCEPTED,
        (P.PENDING, ParticipantEvent.DECLINE): P.DECLINED,
        (P.PENDING, ParticipantEvent.CLOSE): P.CLOSED,
        (P.ACCEPTED, ParticipantEvent.RELEASE): P.RELEASED,
    }
    assert INVITATIONS.transitions == {(InvitationStatus.PENDING, InvitationEvent.ACTIVATE): InvitationStatus.ACTIVATED}
    assert DOCUMENTS.transitions == {(DocumentStatus.PENDING_UPLOAD, DocumentEvent.COMPLETE): DocumentStatus.AVAILABLE}


def test_final_statuses_lead_nowhere():
    for status in (LoanStatus.CANCELLED, LoanStatus.EXPIRED, LoanStatus.COMPLETED):
        for event in LoanEvent:
            if (status, event) == (LoanStatus.COMPLETED, LoanEvent.SCHEDULE):
                assert LOANS.next(status, event) == status  # a read: a repaid loan keeps its schedule
                continue
            with pytest.raises(InvalidState):
                LOANS.next(status, event)
    for status in (ParticipantStatus.DECLINED, ParticipantStatus.CLOSED, ParticipantStatus.RELEASED):
        for event in ParticipantEvent:
            with pytest.raises(InvalidState):
                PARTICIPANTS.next(status, event)


@pytest.mark.parametrize(("lifecycle", "statuses", "events"), LIFECYCLES, ids=lambda x: getattr(x, "kind", ""))
def test_every_pair_is_a_row_or_a_refusal(lifecycle, statuses, events):
    for status, event in itertools.product(statuses, events):
        if (status, event) in lifecycle.transitions:
            assert lifecycle.next(status, event) == lifecycle.transitions[(status, event)]
            continue
        with pytest.raises(InvalidState) as refused:
            lifecycle.next(status, event)
        assert refused.value.code == "INVALID_STATE"
        assert refused.value.details == {"status": str(status), "action": event.name.lower()}
        assert status in refused.value.message and str(event) in refused.value.message


def test_statuses_are_the_strings_stored_and_sent():
    assert LoanStatus.ACTIVE == "ACTIVE" and f"{ParticipantStatus.ACCEPTED}" == "ACCEPTED"
