"""service.domain.money: exact amounts from JSON numbers, rounding, percentages, interest."""

import math
import random
from decimal import Decimal

import pytest

from service.domain.errors import InvalidAmount, InvalidInput
from service.domain.money import CENT, ZERO, percent_of, round_half_up, to_money

D = Decimal


def test_constants():
    assert D("0.01") == CENT and str(CENT) == "0.01"
    assert ZERO == 0 and str(ZERO) == "0.00"


# -- to_money: accepted values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, "5.00"),
        (0, "0.00"),
        (100000000, "100000000.00"),
        (0.07, "0.07"),
        (0.1, "0.10"),
        (2500.5, "2500.50"),
        (1234567.89, "1234567.89"),
        (100000000.0, "100000000.00"),
        (99999999.99, "99999999.99"),
        (6.5, "6.50"),
        (D("0.07"), "0.07"),
        (D("12.3"), "12.30"),
        (D("1234567.89"), "1234567.89"),
        (D("1.230"), "1.23"),  # a trailing zero is not a third decimal place
    ],
)
def test_to_money_returns_exact_two_place_decimal(value, expected):
    amount = to_money(value, "amount")
    assert isinstance(amount, Decimal)
    assert str(amount) == expected
    assert amount.as_tuple().exponent == -2


def test_to_money_float_is_not_converted_through_binary_expansion():
    # Decimal(0.07) would be 0.070000000000000006661...; the repr route recovers 0.07.
    assert Decimal(0.07) != D("0.07")
    assert to_money(0.07, "amount") == D("0.07")


def test_every_two_decimal_literal_up_to_the_contract_maximum_survives_a_float():
    """Literals the contract admits (0.00 .. 100000000.00), parsed as floats by a JSON
    parser, come back exactly as the client wrote them."""
    rng = random.Random(20261122)
    samples = [0, 1, 7, 99, 10**10, 10**10 - 1] + [rng.randint(0, 10**10) for _ in range(3000)]
    for n in samples:
        literal = f"{n // 100}.{n % 100:02d}"
        assert str(to_money(float(literal), "amount")) == literal, literal


# -- to_money: refused values --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [0.005, 1.001, 0.1 + 0.2, 1234567.891, D("0.001"), D("0.005"), D("1.239"), 1e-05],
)
def test_to_money_refuses_a_third_decimal_place(value):
    with pytest.raises(InvalidAmount) as caught:
        to_money(value, "amount")
    assert caught.value.code == "INVALID_AMOUNT"
    assert caught.value.details == {"field": "amount"}
    assert "two decimal places" in caught.value.message


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN")],
)
def test_to_money_refuses_non_finite_numbers(value):
    with pytest.raises(InvalidAmount) as caught:
        to_money(value, "contribution_amount")
    assert caught.value.details == {"field": "contribution_amount"}


@pytest.mark.parametrize("value", [True, False, None, [], {}, [1], object(), b"5"])
def test_to_money_refuses_non_numbers_including_bools(value):
    with pytest.raises(InvalidAmount) as caught:
        to_money(value, "amount")
    assert caught.value.message == "'amount' must be a number."
    assert caught.value.details == {"field": "amount"}


@pytest.mark.parametrize("value", ["abc", "", "1,000.00", "$5", "5 dollars", "12.5", "7", "1e2", "NaN"])
def test_to_money_refuses_strings_even_numeric_ones(value):
    """A number is not a string: "12.5" is refused like "abc", whatever let it through."""
    with pytest.raises(InvalidAmount) as caught:
        to_money(value, "amount")
    assert caught.value.message == "'amount' must be a number."


def test_to_money_raises_the_error_type_asked_for():
    with pytest.raises(InvalidInput) as caught:
        to_money(0.005, "interest_rate", InvalidInput)
    assert type(caught.value) is InvalidInput  # not the InvalidAmount subclass
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.details == {"field": "interest_rate"}


@pytest.mark.parametrize("value", [1e30, D("1e30"), D("1E+40")])
def test_to_money_refuses_huge_numbers_with_the_domain_error(value):
    with pytest.raises(InvalidAmount):
        to_money(value, "amount")


# -- cents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.125", "0.13"),  # half-up: the schedule's rule (half to even would give 0.12)
        ("0.135", "0.14"),
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),
        ("2.675", "2.68"),
        ("-0.125", "-0.13"),  # halves away from zero
        ("1.0051", "1.01"),  # not a tie: nearest
        ("1.0049", "1.00"),
        ("9.722125", "9.72"),
        ("7", "7.00"),
    ],
)
def test_round_half_up_to_the_cent(amount, expected):
    assert str(round_half_up(D(amount))) == expected


# -- percent_of ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        ("1", "3", "33.33"),
        ("2", "3", "66.66"),  # rounded down, not to nearest (66.67)
        ("999.99", "1000", "99.99"),  # 99.999 must not show as complete
        ("999.999", "1000", "99.99"),
        ("1000", "1000", "100.00"),
        ("0", "1000", "0.00"),
        ("250", "1000", "25.00"),
        ("333.33", "1000.00", "33.33"),
        ("0.01", "100000000", "0.00"),
    ],
)
def test_percent_of_rounds_down(part, whole, expected):
    assert str(percent_of(D(part), D(whole))) == expected


@pytest.mark.parametrize("whole", ["0", "0.00", "-5"])
def test_percent_of_a_zero_or_negative_whole_is_zero(whole):
    result = percent_of(D("10"), D(whole))
    assert result == ZERO and str(result) == "0.00"
