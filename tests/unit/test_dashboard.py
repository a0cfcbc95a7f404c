"""service.domain.dashboard: the borrower's and the lender's figures."""

from decimal import Decimal

from service.domain.dashboard import borrower_figures, lender_figures
from service.domain.lifecycle import LoanStatus, ParticipantStatus
from service.domain.loans import Loan, Participant

ACTIVE, PENDING, ACCEPTED = LoanStatus.ACTIVE, LoanStatus.PENDING, ParticipantStatus.ACCEPTED
CANCELLED, EXPIRED = LoanStatus.CANCELLED, LoanStatus.EXPIRED
DECLINED, RELEASED = ParticipantStatus.DECLINED, ParticipantStatus.RELEASED

D = Decimal


def loan(amount, funded, status, rate="6.5", term="12 months", loan_id="loan") -> Loan:
    return Loan(
        loan_id=loan_id,
        borrower_id="borrower-1",
        borrower_name="Bea",
        amount=D(amount),
        interest_rate=D(rate),
        term=term,
        purpose="Purpose",
        description="",
        status=status,
        total_funded=D(funded),
        created_at="2026-11-01T00:00:00Z",
        funding_deadline="2099-01-01T00:00:00.000000Z",
        activated_at="2026-11-02T00:00:00Z" if status == ACTIVE else None,
    )


def participation(contribution, status, funded="0.00", rate="6.5", term="12 months") -> Participant:
    return Participant(
        loan_id="loan",
        email="lena@example.com",
        contribution_amount=D(contribution),
        interest_rate=D(rate),
        term=term,
        invited_at="2026-11-01T00:00:00Z",
        lender_id="lender-1",
        status=status,
        funded_amount=D(funded),
    )


def as_text(figures: dict) -> dict:
    """Exact values, including the number of decimal places."""
    return {key: str(value) for key, value in figures.items()}


def test_borrower_figures_empty():
    figures = borrower_figures([])
    assert as_text(figures) == {
        "loan_count": "0",
        "pending_count": "0",
        "active_count": "0",
        "cancelled_count": "0",
        "expired_count": "0",
        "total_requested": "0.00",
        "total_funded": "0.00",
        "pending_requested": "0.00",
        "active_principal": "0.00",
        "expected_interest": "0.00",
    }
    assert isinstance(figures["total_funded"], Decimal)
    assert isinstance(figures["loan_count"], int)


def test_borrower_figures():
    loans = [
        loan("1000.00", "400.00", PENDING),  # no interest while pending
        loan("2000.00", "2000.00", ACTIVE, rate="5", term="24 months"),  # 200.00
        loan("333.33", "333.33", ACTIVE, rate="7", term="5 months"),  # 9.722125 -> 9.72
        loan("500.00", "0.00", PENDING, rate="10", term="1 month"),
        loan("700.00", "0.00", CANCELLED),  # counted, funding released
        loan("800.00", "0.00", EXPIRED),
    ]
    assert borrower_figures(loans) == {
        "loan_count": 6,
        "pending_count": 2,
        "active_count": 2,
        "cancelled_count": 1,
        "expired_count": 1,
        "total_requested": D("5333.33"),
        "total_funded": D("2733.33"),
        "pending_requested": D("1500.00"),
        "active_principal": D("2333.33"),
        "expected_interest": D("209.72"),
    }


def test_borrower_expected_interest_is_rounded_per_loan():
    # Each loan: 150 at 1% for 1 month = 0.125 -> 0.12 (half to even); rounding the sum of
    # the raw figures (0.25) would give 0.25.
    loans = [loan("150.00", "150.00", ACTIVE, rate="1", term="1 month", loan_id=f"l{i}") for i in range(2)]
    assert str(borrower_figures(loans)["expected_interest"]) == "0.24"


def test_lender_figures_empty():
    assert as_text(lender_figures([])) == {
        "invitation_count": "0",
        "pending_invitations": "0",
        "accepted_count": "0",
        "declined_count": "0",
        "pending_commitment": "0.00",
        "total_funded": "0.00",
        "expected_interest": "0.00",
    }


def test_lender_figures():
    participations = [
        participation("500.00", PENDING),
        # Partially filled: interest is on the 300 funded, not the 500 offered (32.50).
        participation("500.00", ACCEPTED, funded="300.00"),  # 19.50
        participation("1000.00", ACCEPTED, funded="1000.00", rate="12", term="6 months"),  # 60.00
        participation("250.50", PENDING, rate="3", term="1 month"),
        participation("90.00", DECLINED),
        participation("80.00", RELEASED, funded="80.00"),  # the loan was cancelled: not counted
    ]
    assert lender_figures(participations, answerable=frozenset({"loan"})) == {
        "invitation_count": 6,
        "pending_invitations": 2,
        "accepted_count": 2,
        "declined_count": 1,
        "pending_commitment": D("750.50"),
        "total_funded": D("1300.00"),
        "expected_interest": D("79.50"),
    }


def test_lender_figures_only_pending_participations():
    figures = lender_figures(
        [participation("100.00", PENDING), participation("0.01", PENDING)], answerable=frozenset({"loan"})
    )
    assert as_text(figures) == {
        "invitation_count": "2",
        "pending_invitations": "2",
        "accepted_count": "0",
        "declined_count": "0",
        "pending_commitment": "100.01",
        "total_funded": "0.00",
        "expected_interest": "0.00",
    }


def test_invitations_to_loans_that_can_no_longer_be_answered_are_not_pending():
    """Funded by others, cancelled or past their deadline: not in `answerable`."""
    still_open = participation("100.00", PENDING)
    lost_race = Participant(
        **{**still_open.__dict__, "loan_id": "funded-by-others", "contribution_amount": D("900.00")}
    )
    figures = lender_figures([still_open, lost_race], answerable=frozenset({"loan"}))
    assert (figures["invitation_count"], figures["pending_invitations"]) == (2, 1)
    assert figures["pending_commitment"] == D("100.00")
