"""service.domain.repayments: what a repayment pays, to whom, and when it completes a loan."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from service.domain.errors import AccessDenied, InvalidAmount, InvalidInput
from service.domain.lifecycle import InvalidState, LoanStatus
from service.domain.loans import Loan
from service.domain.repayments import InstalmentStatus, Repayment, interest_paid, progress, record, seen_by
from service.domain.schedule import RepaymentType, build

D = Decimal
NOW = "2026-03-20T09:00:00.000000Z"
SCHEDULE = build(RepaymentType.EQUAL_INSTALMENTS, D("10000.00"), D("12"), 6, date(2026, 1, 15))
FUNDED_BY = {"lender-a": D("2500.00"), "lender-b": D("7500.00")}


def active(repaid="0.00", count=0) -> Loan:
    return Loan(
        loan_id="loan-1",
        borrower_id="borrower-1",
        borrower_name="Bea",
        amount=D("10000.00"),
        interest_rate=D("12"),
        term="6 months",
        purpose="p",
        description="",
        status=LoanStatus.ACTIVE,
        total_funded=D("10000.00"),
        created_at="2026-01-01T00:00:00.000000Z",
        funding_deadline="2026-02-01T00:00:00.000000Z",
        activated_at="2026-01-15T00:00:00.000000Z",
        funded_by=FUNDED_BY,
        total_due=SCHEDULE.amount,
        repaid=D(repaid),
        repayment_count=count,
    )


def test_a_repayment_pays_the_oldest_instalment_interest_first():
    recorded = record(active(), SCHEDULE, "borrower-1", D("50.00"), NOW, "r-1")
    assert (recorded.repayment.interest, recorded.repayment.principal) == (D("50.00"), D("0.00"))
    recorded = record(active("50.00", 1), SCHEDULE, "borrower-1", D("1700.00"), NOW, "r-2")
    # The rest of the first instalment (50.00 of interest, 1625.48 of principal), then 24.52
    # towards the second one's 83.75 of interest, which comes before its principal.
    assert (recorded.repayment.interest, recorded.repayment.principal) == (D("74.52"), D("1625.48"))
    assert interest_paid(SCHEDULE, D("1725.48") + D("83.75")) == D("183.75")
    assert recorded.repayment.number == 2 and recorded.loan.repayment_count == 2
    assert recorded.loan.repaid == D("1750.00") and recorded.loan.status == LoanStatus.ACTIVE


def test_shares_are_pro_rata_and_add_up():
    recorded = record(active(), SCHEDULE, "borrower-1", D("0.03"), NOW, "r-1")
    assert recorded.repayment.shares == {"lender-a": D("0.01"), "lender-b": D("0.02")}
    assert seen_by(recorded.repayment, "lender-a")[1] == {"lender-a": D("0.01")}
    assert seen_by(recorded.repayment, None)[1] == recorded.repayment.shares


def test_the_repayment_that_leaves_nothing_outstanding_completes_the_loan():
    loan = active("10000.00", 3)
    recorded = record(loan, SCHEDULE, "borrower-1", loan.outstanding, NOW, "r-4")
    assert recorded.completes and recorded.loan.status == LoanStatus.COMPLETED
    assert recorded.loan.closed_at == NOW and recorded.loan.outstanding == 0
    assert sum(recorded.repayment.shares.values()) == loan.outstanding


def test_more_than_is_outstanding_is_refused_saying_how_much_is():
    loan = active("10000.00", 3)
    with pytest.raises(InvalidAmount) as refused:
        record(loan, SCHEDULE, "borrower-1", loan.outstanding + D("0.01"), NOW, "r-4")
    assert refused.value.details["outstanding"] == D("352.91")
    for bad in (D("0"), D("-1.00"), D("0.001"), "5"):
        with pytest.raises(InvalidAmount):
            record(loan, SCHEDULE, "borrower-1", bad, NOW, "r-4")


def test_only_the_borrower_repays_and_only_an_active_loan():
    with pytest.raises(AccessDenied):
        record(active(), SCHEDULE, "lender-a", D("1.00"), NOW, "r-1")
    done = replace(active(), status=LoanStatus.COMPLETED, repaid=SCHEDULE.amount)
    with pytest.raises(InvalidState) as refused:
        record(done, SCHEDULE, "borrower-1", D("1.00"), NOW, "r-1")
    assert refused.value.details == {"status": "COMPLETED", "action": "repay"}
    with pytest.raises(InvalidInput):
        record(active(), None, "borrower-1", D("1.00"), NOW, "r-1")  # an ACTIVE loan without its schedule


def test_instalment_statuses_follow_the_running_total_and_the_date():
    rows = progress(SCHEDULE, D("2000.00"), date(2026, 3, 20))
    assert [row.status for row in rows] == [
        InstalmentStatus.PAID,
        InstalmentStatus.OVERDUE,  # due 15 March, partly paid
        InstalmentStatus.DUE,
        InstalmentStatus.DUE,
        InstalmentStatus.DUE,
        InstalmentStatus.DUE,
    ]
    assert rows[1].paid == D("274.52")
    assert progress(SCHEDULE, D("2000.00"), date(2026, 3, 10))[1].status == InstalmentStatus.PARTIAL


def test_a_repayment_record_adds_up():
    with pytest.raises(InvalidAmount):
        Repayment("r", "loan-1", 1, D("10.00"), NOW, D("4.00"), D("5.00"), {"a": D("10.00")})
    with pytest.raises(InvalidAmount):
        Repayment("r", "loan-1", 1, D("10.00"), NOW, D("4.00"), D("6.00"), {"a": D("9.99")})
