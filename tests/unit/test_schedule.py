"""Repayment schedules against worked figures, and properties every schedule has."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.errors import InvalidInput
from service.domain.schedule import RepaymentType, Schedule, add_months, build, parse_repayment_type

EQUAL, SINGLE = RepaymentType.EQUAL_INSTALMENTS, RepaymentType.SINGLE_PAYMENT
START = date(2026, 1, 31)


def figures(schedule: Schedule) -> list[tuple[str, str, str]]:
    return [(str(i.principal), str(i.interest), str(i.amount)) for i in schedule.instalments]


def test_ten_thousand_at_twelve_percent_over_six_months():
    schedule = build(EQUAL, Decimal("10000.00"), Decimal("12"), 6, START)
    assert [i.amount for i in schedule.instalments] == [Decimal("1725.48")] * 5 + [Decimal("1725.51")]
    assert figures(schedule)[:2] == [("1625.48", "100.00", "1725.48"), ("1641.73", "83.75", "1725.48")]
    assert schedule.interest == Decimal("352.91")
    assert schedule.amount == Decimal("10352.91")


def test_interest_is_rounded_half_up():
    # 0.005 of interest is a cent, where banker's rounding would give nothing.
    schedule = build(EQUAL, Decimal("0.50"), Decimal("12"), 1, START)
    assert figures(schedule) == [("0.50", "0.01", "0.51")]


def test_no_interest_divides_the_principal():
    schedule = build(EQUAL, Decimal("100.00"), Decimal("0"), 3, START)
    assert figures(schedule) == [("33.33", "0.00", "33.33"), ("33.33", "0.00", "33.33"), ("33.34", "0.00", "33.34")]


def test_one_month_repays_everything_with_a_month_of_interest():
    schedule = build(EQUAL, Decimal("1200.00"), Decimal("6"), 1, START)
    assert figures(schedule) == [("1200.00", "6.00", "1206.00")]


def test_three_hundred_and_sixty_months():
    schedule = build(EQUAL, Decimal("250000.00"), Decimal("6.5"), 360, date(2026, 3, 15))
    amounts = {i.amount for i in schedule.instalments[:-1]}
    assert amounts == {Decimal("1580.17")}  # the familiar 30-year figure for 6.5 %
    assert len(schedule.instalments) == 360
    assert schedule.instalments[-1].due_date == "2056-03-15"
    assert abs(schedule.instalments[-1].amount - Decimal("1580.17")) < Decimal("1.00")
    assert sum(i.principal for i in schedule.instalments) == Decimal("250000.00")


def test_one_cent_over_many_months_is_paid_at_the_end():
    schedule = build(EQUAL, Decimal("0.01"), Decimal("5"), 12, START)
    assert [i.amount for i in schedule.instalments] == [Decimal("0.00")] * 11 + [Decimal("0.01")]


def test_single_payment_is_principal_and_simple_interest_at_maturity():
    schedule = build(SINGLE, Decimal("1000.00"), Decimal("6.5"), 18, START)
    assert [(i.number, i.due_date) for i in schedule.instalments] == [(1, "2027-07-31")]
    assert figures(schedule) == [("1000.00", "97.50", "1097.50")]


def test_due_dates_fall_on_the_last_day_of_shorter_months():
    assert [add_months(START, n).isoformat() for n in (1, 2, 3, 13)] == [
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2027-02-28",
    ]
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)


def test_a_schedule_must_repay_its_principal():
    schedule = build(EQUAL, Decimal("100.00"), Decimal("0"), 2, START)
    with pytest.raises(InvalidInput):
        Schedule(EQUAL, Decimal("100.01"), schedule.instalments)
    with pytest.raises(InvalidInput):
        Schedule(EQUAL, Decimal("100.00"), schedule.instalments[::-1])


def test_unknown_repayment_type_is_refused():
    assert parse_repayment_type("SINGLE_PAYMENT") is SINGLE
    with pytest.raises(InvalidInput) as refused:
        parse_repayment_type("BALLOON")
    assert refused.value.details == {"field": "repayment_type"}


money = st.integers(min_value=1, max_value=10_000_000_000).map(lambda cents: Decimal(cents) / 100)
rates = st.integers(min_value=0, max_value=10_000).map(lambda bp: Decimal(bp) / 100)


@given(kind=st.sampled_from(list(RepaymentType)), principal=money, rate=rates, months=st.integers(1, 360))
def test_every_schedule_repays_the_principal_in_parts_that_add_up(kind, principal, rate, months):
    schedule = build(kind, principal, rate, months, START)
    assert sum(i.principal for i in schedule.instalments) == principal
    for instalment in schedule.instalments:
        assert instalment.amount == instalment.principal + instalment.interest
        assert instalment.principal >= 0 and instalment.interest >= 0
        assert instalment.amount == instalment.amount.quantize(Decimal("0.01"))
    assert len(schedule.instalments) == (months if kind == EQUAL else 1)
