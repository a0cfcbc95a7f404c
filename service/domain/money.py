"""Exact money: `Decimal` amounts with at most two decimal places, never floats."""

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from .errors import DomainError, InvalidAmount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Far above any amount the contract admits, and far below Decimal's 28-digit precision.
MAX_DIGITS = 15


def to_money(value: object, field: str, error: type[DomainError] = InvalidAmount) -> Decimal:
    """An exact amount (or any two-decimal figure) from a JSON number.

    JSON parsers hand floats to the handlers. `repr` of a float is the shortest decimal that
    round-trips, so for the literals the contract admits (at most two decimals, at most
    eleven significant digits) `Decimal(repr(x))` recovers exactly what the client wrote.
    Anything with a third decimal place, or that is not a finite number, is refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise error(f"'{field}' must be a number.", {"field": field})
    if isinstance(value, float) and not math.isfinite(value):
        raise error(f"'{field}' must be a finite number.", {"field": field})
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise error(f"'{field}' must be a number.", {"field": field}) from None
    if not amount.is_finite() or amount.adjusted() > MAX_DIGITS:
        raise error(f"'{field}' is out of range.", {"field": field})
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise error(f"'{field}' must have at most two decimal places.", {"field": field})
    return amount.quantize(CENT)


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent (half to even, the banker's rule)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def percent_of(part: Decimal, whole: Decimal) -> Decimal:
    """`part` as a percentage of `whole`, rounded down so 100 means complete."""
    if whole <= 0:
        return ZERO
    return (part * 100 / whole).quantize(CENT, rounding=ROUND_DOWN)


def simple_interest(principal: Decimal, annual_rate_percent: Decimal, months: int) -> Decimal:
    """Simple interest on `principal` over `months` at an annual rate in percent, to the cent."""
    return cents(principal * annual_rate_percent * months / Decimal(1200))
