"""Loans and their participants: what each is, and the invariants each holds on its own.

Every object checks its invariants when it is made, whatever its caller validated before:
a loan's amount is positive and within the maximum, its rate 0-100, its term 1-360 months,
`0 <= total_funded <= amount`; it is `ACTIVE` (or repaid) exactly when fully funded, and a
cancelled or expired loan counts no funding (its commitments were released). A participant's
contribution is positive and what it funded lies between nothing (unless accepted) and that
contribution.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from .errors import InvalidAmount, InvalidInput, LoanExpired
from .lifecycle import LoanStatus, ParticipantStatus, parse_status
from .money import CENT, ZERO, amount_in_range, percent_of, simple_interest

MAX_RATE = Decimal(100)
FUNDED = frozenset({LoanStatus.ACTIVE, LoanStatus.COMPLETED})
RELEASED = frozenset({LoanStatus.CANCELLED, LoanStatus.EXPIRED})
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
    funding_deadline: str
    activated_at: str | None = None
    closed_at: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_status(LoanStatus, self.status))
        amount_in_range(self.amount, "amount")
        check_rate(self.interest_rate)
        term_months(self.term)
        amount_in_range(self.total_funded, "total_funded", ZERO, self.amount)
        funded = self.total_funded == self.amount
        if (self.status in FUNDED) != funded or (self.status in RELEASED and self.total_funded != ZERO):
            raise InvalidAmount(
                "A loan is ACTIVE (or repaid) exactly when fully funded; a cancelled or expired one counts nothing.",
                {"status": str(self.status), "amount": self.amount, "total_funded": self.total_funded},
            )

    def past_deadline(self, now: str) -> bool:
        """Whether a PENDING loan's funding deadline has passed at `now` (both timestamps)."""
        return self.status == LoanStatus.PENDING and self.funding_deadline <= now

    def refuse_if_expired(self, now: str) -> None:
        """`LOAN_EXPIRED` for a loan expired at `now`: written so, or past its deadline unwritten."""
        if self.status == LoanStatus.EXPIRED or self.past_deadline(now):
            raise LoanExpired("This loan's funding deadline has passed.")

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
    decline_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_status(ParticipantStatus, self.status))
        amount_in_range(self.contribution_amount, "contribution_amount")
        # Accepted (or released after): at least a cent, at most the contribution; else nothing.
        committed = self.status in (ParticipantStatus.ACCEPTED, ParticipantStatus.RELEASED)
        low, high = (CENT, self.contribution_amount) if committed else (ZERO, ZERO)
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
