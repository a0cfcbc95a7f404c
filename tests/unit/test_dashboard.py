"""service.domain.dashboard: the borrower's and the lender's figures, from the schedules."""

from datetime import date
from decimal import Decimal

from service.domain.dashboard import borrower_figures, lender_figures
from service.domain.lifecycle import LoanStatus, ParticipantStatus
from service.domain.loans import Loan, Participant
from service.domain.schedule import RepaymentType, Schedule, build

ACTIVE, PENDING, ACCEPTED = LoanStatus.ACTIVE, LoanStatus.PENDING, ParticipantStatus.ACCEPTED
CANCELLED, EXPIRED, COMPLETED = LoanStatus.CANCELLED, LoanStatus.EXPIRED, LoanStatus.COMPLETED
DECLINED, RELEASED = ParticipantStatus.DECLINED, ParticipantStatus.RELEASED
EQUAL = RepaymentType.EQUAL_INSTALMENTS
ACTIVATED = date(2026, 1, 15)
D = Decimal


def schedule_of(amount, rate="6.5", months=12) -> Schedule:
    return build(EQUAL, D(amount), D(rate), months, ACTIVATED)


def loan(amount, status, rate="6.5", months=12, loan_id="loan", funded_by=None, repaid="0.00") -> Loan:
    funded = status in (ACTIVE, COMPLETED)
    funded_by = funded_by or ({"lender-1": D(amount)} if funded else {})
    return Loan(
        loan_id=loan_id,
        borrower_id="borrower-1",
        borrower_name="Bea",
        amount=D(amount),
        interest_rate=D(rate),
        term=f"{months} months" if months > 1 else "1 month",
        purpose="Purpose",
        description="",
        status=status,
        total_funded=sum(funded_by.values(), D("0.00")),
        created_at="2026-01-01T00:00:00Z",
        funding_deadline="2099-01-01T00:00:00.000000Z",
        activated_at="2026-01-15T00:00:00Z" if funded else None,
        funded_by=funded_by,
        total_due=schedule_of(amount, rate, months).amount if funded else None,
        repaid=D(repaid),
    )


def participation(contribution, status, funded="0.00", loan_id="loan") -> Participant:
    return Participant(
        loan_id=loan_id,
        email="lena@example.com",
        contribution_amount=D(contribution),
        interest_rate=D("6.5"),
        term="12 months",
        invited_at="2026-01-01T00:00:00Z",
        lender_id="lender-1",
        status=status,
        funded_amount=D(funded),
    )


def test_borrower_figures_empty():
    figures = borrower_figures([], {}, ACTIVATED)
    assert {key: str(value) for key, value in figures.items()} == {
        "loan_count": "0",
        "pending_count": "0",
        "active_count": "0",
        "cancelled_count": "0",
        "expired_count": "0",
        "completed_count": "0",
        "total_requested": "0.00",
        "total_funded": "0.00",
        "pending_requested": "0.00",
        "active_principal": "0.00",
        "expected_interest": "0.00",
        "outstanding": "0.00",
        "next_due": "None",
        "overdue_count": "0",
    }


def test_borrower_figures_come_from_the_schedules():
    first = loan("10000.00", ACTIVE, rate="12", months=6, loan_id="a", repaid="2000.00")
    second = loan("1200.00", ACTIVE, rate="0", months=12, loan_id="b")
    done = loan("500.00", COMPLETED, rate="0", months=1, loan_id="c", repaid="500.00")
    loans = [
        first,
        second,
        done,
        loan("1000.00", PENDING, loan_id="d"),
        loan("700.00", CANCELLED, loan_id="e"),
        loan("800.00", EXPIRED, loan_id="f"),
    ]
    schedules = {"a": schedule_of("10000.00", "12", 6), "b": schedule_of("1200.00", "0", 12)}
    # On 20 March: a's first instalment (15 Feb) is paid and its second (15 March) is partly
    # paid and overdue; b has paid nothing of its first two (15 Feb, 15 March).
    figures = borrower_figures(loans, schedules, date(2026, 3, 20))
    assert figures == {
        "loan_count": 6,
        "pending_count": 1,
        "active_count": 2,
        "cancelled_count": 1,
        "expired_count": 1,
        "completed_count": 1,
        "total_requested": D("14200.00"),
        "total_funded": D("11700.00"),
        "pending_requested": D("1000.00"),
        "active_principal": D("11200.00"),
        "expected_interest": schedules["a"].interest,  # 352.91; b has none
        "outstanding": D("10352.91") - D("2000.00") + D("1200.00"),
        # a's second instalment has 2 × 1725.48 − 2000.00 unpaid; b's first is 100.00.
        "next_due": {"date": "2026-02-15", "amount": D("100.00")},
        "overdue_count": 3,
    }
    assert borrower_figures(loans, schedules, date(2026, 2, 1))["next_due"] == {
        "date": "2026-02-15",
        "amount": D("100.00"),
    }


def test_next_due_adds_up_loans_due_the_same_day():
    loans = [loan("1200.00", ACTIVE, rate="0", loan_id=name) for name in ("a", "b")]
    schedules = {name: schedule_of("1200.00", "0") for name in ("a", "b")}
    figures = borrower_figures(loans, schedules, date(2026, 1, 20))
    assert figures["next_due"] == {"date": "2026-02-15", "amount": D("200.00")}
    assert figures["overdue_count"] == 0


def test_lender_figures_empty():
    figures = lender_figures([], {}, {}, ACTIVATED)
    assert figures["received"] == figures["outstanding_to_me"] == figures["expected_interest"] == D("0.00")
    assert figures["next_expected"] is None


def test_lender_figures_are_their_shares_of_the_schedule():
    funded_by = {"lender-1": D("3000.00"), "lender-2": D("7000.00")}
    active = loan("10000.00", ACTIVE, rate="12", months=6, funded_by=funded_by, repaid="1725.48")
    pending = loan("2000.00", PENDING, loan_id="p", funded_by={"lender-1": D("500.00")})
    participations = [
        participation("3000.00", ACCEPTED, funded="3000.00"),
        participation("600.00", ACCEPTED, funded="500.00", loan_id="p"),
        participation("90.00", DECLINED, loan_id="x"),
        participation("80.00", RELEASED, funded="80.00", loan_id="y"),  # cancelled: not counted
        participation("250.00", PENDING, loan_id="p"),
    ]
    schedules = {"loan": schedule_of("10000.00", "12", 6)}
    figures = lender_figures(
        participations, {"loan": active, "p": pending}, schedules, date(2026, 2, 20), frozenset({"p"})
    )
    projected = build(EQUAL, D("500.00"), D("6.5"), 12, date(2026, 2, 20))
    assert figures == {
        "invitation_count": 5,
        "pending_invitations": 1,
        "accepted_count": 2,
        "declined_count": 1,
        "pending_commitment": D("250.00"),
        "total_funded": D("3500.00"),
        # 30 % of 352.91 is 105.873: 105.87; and the projected interest on 500 funded.
        "expected_interest": D("105.87") + projected.interest,
        "received": D("517.64"),  # 30 % of 1725.48 = 517.644
        "outstanding_to_me": D("3105.87") - D("517.64"),
        # The second instalment (15 March): 30 % of 3450.96 = 1035.288 → 1035.29, less 517.64.
        "next_expected": {"date": "2026-03-15", "amount": D("517.65")},
    }


def test_a_repaid_loan_counts_what_was_received_and_owes_nothing():
    done = loan("1000.00", COMPLETED, rate="0", months=1, repaid="1000.00")
    schedules = {"loan": schedule_of("1000.00", "0", 1)}
    figures = lender_figures(
        [participation("1000.00", ACCEPTED, funded="1000.00")], {"loan": done}, schedules, ACTIVATED
    )
    assert (figures["received"], figures["outstanding_to_me"], figures["next_expected"]) == (
        D("1000.00"),
        D("0.00"),
        None,
    )
