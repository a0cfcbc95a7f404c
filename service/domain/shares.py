"""Splitting money among a loan's lenders, pro rata to what each funded, to the cent.

The split is the largest-remainder (Hamilton) method applied to the *cumulative* total
repaid: each lender's running total is the exact pro-rata share of everything repaid so far,
rounded down to the cent, plus one cent for the lenders with the largest remainders until the
cents add up. A repayment's shares are the differences of these running totals before and
after it, so

- the shares of every repayment add up to it exactly, and
- no lender's running total is ever a cent or more from their exact share,

and no rounding drifts across many small repayments. Ties in the remainder go to the larger
funded amount, then to the smaller lender id, so the split is a function of the total alone.
"""

from collections.abc import Mapping
from decimal import Decimal

from .errors import InvalidAmount
from .money import CENT, ZERO


def _cents(amount: Decimal) -> int:
    return int(amount / CENT)


def running_totals(total: Decimal, funded: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Each lender's part of `total` (a cumulative amount), adding up to it exactly.

    In whole cents and integer arithmetic: a remainder is compared exactly, never rounded."""
    weights = {lender: _cents(amount) for lender, amount in funded.items()}
    whole = sum(weights.values())
    if whole <= 0 or total < ZERO or any(weight <= 0 for weight in weights.values()):
        raise InvalidAmount("Money is split among lenders who funded a positive amount.")
    cents = _cents(total)
    parts = {lender: divmod(cents * weight, whole) for lender, weight in weights.items()}
    left = cents - sum(floor for floor, _ in parts.values())
    by_remainder = sorted(weights, key=lambda lender: (-parts[lender][1], -weights[lender], lender))
    extra = set(by_remainder[:left])
    return {lender: (floor + (lender in extra)) * CENT for lender, (floor, _) in parts.items()}


def split(before: Decimal, amount: Decimal, funded: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Each lender's share of a repayment of `amount` made when `before` had been repaid."""
    after, earlier = running_totals(before + amount, funded), running_totals(before, funded)
    return {lender: after[lender] - earlier[lender] for lender in sorted(funded)}
