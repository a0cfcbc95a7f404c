"""The split of repayments among lenders: exact sums, and running totals within a cent."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.errors import InvalidAmount
from service.domain.shares import running_totals, split

CENT = Decimal("0.01")


def test_a_cent_goes_to_the_largest_remainder_then_the_larger_lender():
    funded = {"a": Decimal("100.00"), "b": Decimal("200.00"), "c": Decimal("100.00")}
    assert split(Decimal(0), Decimal("0.03"), funded) == {
        "a": Decimal("0.01"),
        "b": Decimal("0.01"),
        "c": Decimal("0.01"),
    }
    # 0.01 split 1:2:1: b's remainder (0.005) is the largest.
    assert split(Decimal(0), CENT, funded) == {"a": Decimal("0.00"), "b": CENT, "c": Decimal("0.00")}
    # Equal remainders and equal amounts: the smaller id.
    assert running_totals(CENT, {"y": Decimal(1), "x": Decimal(1)}) == {"x": CENT, "y": Decimal("0.00")}


def test_small_repayments_do_not_drift():
    funded = {"a": Decimal("1.00"), "b": Decimal("1.00"), "c": Decimal("1.00")}
    received = dict.fromkeys(funded, Decimal(0))
    for n in range(300):
        for lender, share in split(CENT * n, CENT, funded).items():
            received[lender] += share
    # A cent at a time, 3.00 in all: a third each, where rounding each repayment alone
    # would have given every cent to one lender.
    assert received == dict.fromkeys(funded, Decimal("1.00"))


def test_nobody_is_split_a_share_of_nothing():
    with pytest.raises(InvalidAmount):
        running_totals(CENT, {})
    with pytest.raises(InvalidAmount):
        running_totals(CENT, {"a": Decimal(0)})


cents = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n) / 100)
lenders = st.dictionaries(st.uuids().map(str), cents, min_size=1, max_size=40)


@given(funded=lenders, repayments=st.lists(st.integers(1, 5_000_000).map(lambda n: Decimal(n) / 100), max_size=30))
def test_shares_add_up_and_running_totals_stay_within_a_cent(funded, repayments):
    whole = sum(funded.values())
    received = dict.fromkeys(funded, Decimal(0))
    repaid = Decimal(0)
    for amount in repayments:
        shares = split(repaid, amount, funded)
        assert sum(shares.values()) == amount
        repaid += amount
        for lender, share in shares.items():
            received[lender] += share
            exact = Fraction(repaid) * Fraction(funded[lender]) / Fraction(whole)
            assert abs(Fraction(received[lender]) - exact) < Fraction(1, 100)
