"""Repayment schedules: what is owed, when, split into principal and interest.

- `EQUAL_INSTALMENTS`: a monthly annuity at `interest_rate / 12` per month. The instalment
  `A = P·r / (1 − (1+r)^−n)` (or `P/n` at 0 %) is rounded to the cent; each month's interest is
  the balance × r rounded to the cent, the rest of `A` is principal; the last instalment pays
  the exact remaining balance, so it absorbs every cent of rounding (as Fineract's
  `adjustPrincipalIfLastRepaymentPeriod` does).
- `SINGLE_PAYMENT`: the principal and simple interest for the term, due at maturity.

All figures are `Decimal` and rounded half-up to the cent. Due dates are months after the
start (the activation); a day the month lacks falls on its last day (31 January, then
28 February, then 31 March).
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .errors import InvalidInput
from .money import ZERO, round_half_up


class RepaymentType(StrEnum):
    EQUAL_INSTALMENTS = "EQUAL_INSTALMENTS"
    SINGLE_PAYMENT = "SINGLE_PAYMENT"


def parse_repayment_type(value: object) -> RepaymentType:
    try:
        return RepaymentType(str(value))
    except ValueError:
        choices = ", ".join(RepaymentType)
        raise InvalidInput(f"'repayment_type' must be one of {choices}.", {"field": "repayment_type"}) from None


@dataclass(frozen=True)
class Instalment:
    number: int
    due_date: str  # ISO date
    principal: Decimal
    interest: Decimal

    def __post_init__(self) -> None:
        if self.principal < ZERO or self.interest < ZERO:
            raise InvalidInput("An instalment owes no negative principal or interest.")

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class Schedule:
    """The instalments of one loan, which together repay its principal exactly."""

    repayment_type: RepaymentType
    principal: Decimal
    instalments: tuple[Instalment, ...]

    def __post_init__(self) -> None:
        numbers = [i.number for i in self.instalments]
        if numbers != list(range(1, len(numbers) + 1)) or sum((i.principal for i in self.instalments), ZERO) != (
            self.principal
        ):
            raise InvalidInput("A schedule numbers its instalments from 1 and repays its principal exactly.")

    @property
    def interest(self) -> Decimal:
        return sum((i.interest for i in self.instalments), ZERO)

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def add_months(start: date, months: int) -> date:
    """`start` plus whole months, on the same day or the month's last if it has fewer."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def build(
    repayment_type: RepaymentType, principal: Decimal, annual_rate_percent: Decimal, months: int, start: date
) -> Schedule:
    """The schedule of a loan of `principal` over `months`, starting (activated) on `start`."""
    if repayment_type == RepaymentType.SINGLE_PAYMENT:
        interest = round_half_up(principal * annual_rate_percent * months / Decimal(1200))
        due = add_months(start, months).isoformat()
        return Schedule(repayment_type, principal, (Instalment(1, due, principal, interest),))
    rate = annual_rate_percent / Decimal(1200)
    payment = round_half_up(principal / months if rate == 0 else principal * rate / (1 - (1 + rate) ** -months))
    balance, instalments = principal, []
    for number in range(1, months + 1):
        interest = round_half_up(balance * rate)
        # The last pays what remains; before it, a payment never repays more than is owed.
        part = balance if number == months else min(payment - interest, balance)
        instalments.append(Instalment(number, add_months(start, number).isoformat(), part, interest))
        balance -= part
    return Schedule(repayment_type, principal, tuple(instalments))
