"""Exact money: `Decimal` amounts with at most two decimal places, never floats."""

import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .errors import DomainError, InvalidAmount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The contract's `Money` maximum: no amount or contribution is larger.
MAX_AMOUNT = Decimal(100_000_000)
# Far above any amount the contract admits, and far below Decimal's 28-digit precision.
MAX_DIGITS = 15


def to_money(value: object, field: str, error: type[DomainError] = InvalidAmount) -> Decimal:
    """An exact two-decimal figure (of any sign) from a number.

    The service's own JSON reading gives `Decimal`s; a float from elsewhere is read through
    `repr`, the shortest decimal that round-trips, which for the literals the contract admits
    (at most two decimals, at most eleven significant digits) is exactly what was written.
    Anything with a third decimal place, that is not a finite number, or that is not a number
    at all (a string, a bool) is refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise error(f"'{field}' must be a number.", {"field": field})
    if isinstance(value, float) and not math.isfinite(value):
        raise error(f"'{field}' must be a finite number.", {"field": field})
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite() or amount.adjusted() > MAX_DIGITS:
        raise error(f"'{field}' is out of range.", {"field": field})
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise error(f"'{field}' must have at most two decimal places.", {"field": field})
    return amount.quantize(CENT)


def amount_in_range(
    value: object,
    field: str,
    minimum: Decimal = CENT,
    maximum: Decimal = MAX_AMOUNT,
    error: type[DomainError] = InvalidAmount,
) -> Decimal:
    """`to_money`, and within [minimum, maximum]: by default a positive amount the contract
    admits."""
    amount = to_money(value, field, error)
    if not minimum <= amount <= maximum:
        raise error(
            f"'{field}' must be between {minimum} and {maximum}.",
            {"field": field, "minimum": minimum, "maximum": maximum},
        )
    return amount


def round_half_up(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent, halves away from zero: the schedule's rule."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(part: Decimal, whole: Decimal) -> Decimal:
    """`part` as a percentage of `whole`, rounded down so 100 means complete."""
    if whole <= 0:
        return ZERO
    return (part * 100 / whole).quantize(CENT, rounding=ROUND_DOWN)
