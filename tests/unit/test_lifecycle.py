"""service.domain.lifecycle: every status change goes through a transition table; any pair the
table lacks is refused with INVALID_STATE, naming the status and the action."""

import itertools

import pytest

from service.domain.lifecycle import (
    INVITATIONS,
    LOANS,
    PARTICIPANTS,
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
]


def test_only_todays_transitions_exist():
    assert LOANS.transitions == {(LoanStatus.PENDING, LoanEvent.FULLY_FUNDED): LoanStatus.ACTIVE}
    assert PARTICIPANTS.transitions == {
        (ParticipantStatus.PENDING, ParticipantEvent.ACCEPT): ParticipantStatus.ACCEPTED
    }
    assert INVITATIONS.transitions == {(InvitationStatus.PENDING, InvitationEvent.ACTIVATE): InvitationStatus.ACTIVATED}


@pytest.mark.parametrize(("lifecycle", "statuses", "events"), LIFECYCLES, ids=lambda x: getattr(x, "kind", ""))
def test_every_pair_is_a_row_or_a_refusal(lifecycle, statuses, events):
    for status, event in itertools.product(statuses, events):
        if (status, event) in lifecycle.transitions:
            assert lifecycle.next(status, event) == lifecycle.transitions[(status, event)]
            continue
        with pytest.raises(InvalidState) as refused:
            lifecycle.next(status, event)
        assert refused.value.code == "INVALID_STATE"
        assert refused.value.details == {"status": str(status), "action": str(event)}
        assert status in refused.value.message and str(event) in refused.value.message


def test_statuses_are_the_strings_stored_and_sent():
    assert LoanStatus.ACTIVE == "ACTIVE" and f"{ParticipantStatus.ACCEPTED}" == "ACCEPTED"
