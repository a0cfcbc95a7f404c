"""Loans and their participants: what each is, and the invariants each holds on its own.

Every object checks its invariants when it is made, whatever its caller validated before:
a loan's amount is positive and within the maximum, its rate 0-100, its term 1-360 months,
`0 <= total_funded <= amount`, and it is `ACTIVE` exactly when fully funded; a participant's
contribution is positive and what it funded lies between nothing (while pending) and that
contribution.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from .errors import InvalidAmount, InvalidInput
from .lifecycle import LoanStatus, ParticipantStatus, parse_status
from .money import CENT, ZERO, amount_in_range, percent_of, simple_interest

MAX_RATE = Decimal(100)
MAX_TERM_MONTHS = 360
_TERM = re.compile(r"([1-9][0-9]{0,2}) months?")


def term_months(term: object) -> int:
    """Months in a term such as `12 months` or `1 month`."""
    match = _TERM.fullmatch(term) if isinstance(term, str) else None
    months = int(match.group(1)) if match else 0
    if not 1 <= months <= MAX_TERM_MONTHS or (months == 1) != str(term).endswith("month"):
        raise InvalidInput("'term' must be '1 month' or 'N months' with N from 2 to 360.", {"field": "term"})
    return months


def check_rate(rate: object) -> Decimal:
    return amount_in_range(rate, "interest_rate", ZERO, MAX_RATE, InvalidInput)


@dataclass(frozen=True)
class Loan:
    loan_id: str
    borrower_id: str
    borrower_name: str
    amount: Decimal
    interest_rate: Decimal
    term: str
    purpose: str
    description: str
    status: LoanStatus
    total_funded: Decimal
    created_at: str
    activated_at: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_status(LoanStatus, self.status))
        amount_in_range(self.amount, "amount")
        check_rate(self.interest_rate)
        term_months(self.term)
        amount_in_range(self.total_funded, "total_funded", ZERO, self.amount)
        if (self.status == LoanStatus.ACTIVE) != (self.total_funded == self.amount):
            raise InvalidAmount(
                "A loan is ACTIVE exactly when it is fully funded.",
                {"status": str(self.status), "amount": self.amount, "total_funded": self.total_funded},
            )

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.total_funded

    @property
    def funding_progress(self) -> Decimal:
        return percent_of(self.total_funded, self.amount)

    @property
    def months(self) -> int:
        return term_months(self.term)


@dataclass(frozen=True)
class Participant:
    """One lender's place in one loan.

    `lender_id` is None while the invited email has no verified account; such a participant
    becomes that account's when its owner proves the address. `interest_rate` and `term` are
    copied from the loan (they never change) so a lender's figures need no loan reads.
    """

    loan_id: str
    email: str
    contribution_amount: Decimal
    interest_rate: Decimal
    term: str
    invited_at: str
    lender_id: str | None = None
    status: ParticipantStatus = ParticipantStatus.PENDING
    funded_amount: Decimal = ZERO
    responded_at: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_status(ParticipantStatus, self.status))
        amount_in_range(self.contribution_amount, "contribution_amount")
        # Pending: nothing funded yet. Accepted: at least a cent, at most the contribution.
        pending = self.status == ParticipantStatus.PENDING
        low, high = (ZERO, ZERO) if pending else (CENT, self.contribution_amount)
        amount_in_range(self.funded_amount, "funded_amount", low, high)

    @property
    def registered(self) -> bool:
        return self.lender_id is not None


def funded_total(participants: list[Participant]) -> Decimal:
    """What the accepted participants funded: always the loan's `total_funded`."""
    return sum((p.funded_amount for p in participants if p.status == ParticipantStatus.ACCEPTED), ZERO)


def can_view(loan: Loan, user_id: str, participant: Participant | None) -> bool:
    """Only the borrower and the lenders invited to a loan may see it."""
    return loan.borrower_id == user_id or participant is not None


def expected_interest(principal: Decimal, rate: Decimal, term: str) -> Decimal:
    return simple_interest(principal, rate, term_months(term))
