"""Loans, their participants, and the funding rules.

A loan is `PENDING` until the accepted contributions reach its amount, then `ACTIVE`.
Acceptance is first come, first served: whoever finds less remaining than their contribution
funds what remains; whoever finds nothing remaining is refused and changes nothing.

Every object checks its own invariants when it is made, whatever its caller validated
before: a loan's amount is positive and within the maximum, `0 ≤ total_funded ≤ amount` and
`ACTIVE` exactly when fully funded; a participant's contribution is positive and what it
funded lies between nothing (while pending) and its contribution.
"""

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from .errors import AccessDenied, AlreadyAccepted, InvalidAmount, InvalidEmail, InvalidInput, LoanFullyFunded
from .money import CENT, ZERO, amount_in_range, percent_of, simple_interest
from .users import clean_name, normalize_email, trim

PENDING = "PENDING"
ACTIVE = "ACTIVE"
ACCEPTED = "ACCEPTED"

# A loan, the borrower's role flag and two items per lender must fit one transaction
# (100 items), with room left for the roadmap's per-loan records.
MAX_LENDERS = 40
MAX_PURPOSE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
MAX_RATE = Decimal(100)
_TERM = re.compile(r"([1-9][0-9]{0,2}) months?")
MAX_TERM_MONTHS = 360
LOAN_STATUSES = (PENDING, ACTIVE)
PARTICIPANT_STATUSES = (PENDING, ACCEPTED)


def term_months(term: object) -> int:
    """Months in a term such as `12 months` or `1 month`."""
    match = _TERM.fullmatch(term) if isinstance(term, str) else None
    months = int(match.group(1)) if match else 0
    if not 1 <= months <= MAX_TERM_MONTHS or (months == 1) != term.endswith("month"):
        raise InvalidInput(
            "'term' must be '1 month' or 'N months' with N from 2 to 360.", {"field": "term"}
        )
    return months


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
    status: str
    total_funded: Decimal
    created_at: str
    activated_at: str | None = None

    def __post_init__(self) -> None:
        amount_in_range(self.amount, "amount")
        amount_in_range(self.interest_rate, "interest_rate", ZERO, MAX_RATE, InvalidInput)
        term_months(self.term)
        amount_in_range(self.total_funded, "total_funded", ZERO, self.amount)
        if self.status not in LOAN_STATUSES:
            raise InvalidInput(f"A loan's status must be one of {', '.join(LOAN_STATUSES)}.")
        if (self.status == ACTIVE) != (self.total_funded == self.amount):
            raise InvalidAmount(
                "A loan is ACTIVE exactly when it is fully funded.",
                {"status": self.status, "amount": self.amount, "total_funded": self.total_funded},
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

    `lender_id` is None while the invited email belongs to nobody; such a participant turns
    into a registered one when that person signs up. `interest_rate` and `term` are copied
    from the loan (they never change) so a lender's figures need no loan reads.
    """

    loan_id: str
    email: str
    contribution_amount: Decimal
    interest_rate: Decimal
    term: str
    invited_at: str
    lender_id: str | None = None
    status: str = PENDING
    funded_amount: Decimal = ZERO
    responded_at: str | None = None

    def __post_init__(self) -> None:
        amount_in_range(self.contribution_amount, "contribution_amount")
        if self.status not in PARTICIPANT_STATUSES:
            raise InvalidInput(f"A participant's status must be one of {', '.join(PARTICIPANT_STATUSES)}.")
        # Pending: nothing funded yet. Accepted: at least a cent, at most the contribution.
        low, high = (ZERO, ZERO) if self.status == PENDING else (CENT, self.contribution_amount)
        amount_in_range(self.funded_amount, "funded_amount", low, high)

    @property
    def registered(self) -> bool:
        return self.lender_id is not None


@dataclass(frozen=True)
class LenderInvite:
    email: str
    contribution_amount: Decimal

    def __post_init__(self) -> None:
        if normalize_email(self.email) != self.email:
            raise InvalidEmail("An invited email must be in its normal form.", {"email": self.email})
        amount_in_range(self.contribution_amount, "contribution_amount")


@dataclass(frozen=True)
class LoanApplication:
    """A validated request for a new loan."""

    amount: Decimal
    interest_rate: Decimal
    term: str
    purpose: str
    description: str
    lenders: tuple[LenderInvite, ...]

    def __post_init__(self) -> None:
        amount_in_range(self.amount, "amount")
        amount_in_range(self.interest_rate, "interest_rate", ZERO, MAX_RATE, InvalidInput)
        term_months(self.term)
        if not isinstance(self.lenders, tuple) or not all(isinstance(l, LenderInvite) for l in self.lenders):
            raise InvalidInput("'lenders' must be a list of invitations.", {"field": "lenders"})
        self._check_lenders()

    @classmethod
    def from_request(cls, body: dict) -> "LoanApplication":
        entries = body.get("lenders")
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise InvalidInput("'lenders' must be a list of invitations.", {"field": "lenders"})
        lenders = tuple(
            LenderInvite(
                email=normalize_email(entry.get("email")),
                contribution_amount=amount_in_range(
                    entry.get("contribution_amount"), f"lenders[{index}].contribution_amount"
                ),
            )
            for index, entry in enumerate(entries)
        )
        return cls(
            amount=amount_in_range(body.get("amount"), "amount"),
            interest_rate=amount_in_range(body.get("interest_rate"), "interest_rate", ZERO, MAX_RATE, InvalidInput),
            term=trim(body.get("term"), "term"),
            purpose=clean_name(body.get("purpose"), "purpose", MAX_PURPOSE_LENGTH),
            description=trim(body.get("description", ""), "description", MAX_DESCRIPTION_LENGTH),
            lenders=lenders,
        )

    @property
    def emails(self) -> list[str]:
        return [lender.email for lender in self.lenders]

    def check_borrower(self, borrower_email: str) -> None:
        if borrower_email.lower() in self.emails:
            raise InvalidInput("A borrower cannot invite themself.", {"email": borrower_email})

    def _check_lenders(self) -> None:
        if not 1 <= len(self.lenders) <= MAX_LENDERS:
            raise InvalidInput(f"Invite between 1 and {MAX_LENDERS} lenders.", {"field": "lenders"})
        emails = self.emails
        duplicates = sorted({email for email in emails if emails.count(email) > 1})
        if duplicates:
            raise InvalidInput(
                "Each lender may be invited only once per loan.", {"duplicates": duplicates}
            )
        invited = sum((lender.contribution_amount for lender in self.lenders), ZERO)
        if invited < self.amount:
            raise InvalidAmount(
                "The lenders' contributions must add up to at least the loan amount.",
                {"amount": self.amount, "total_contributions": invited},
            )


def new_loan(application: LoanApplication, loan_id: str, borrower_id: str,
             borrower_name: str, now: str) -> Loan:
    return Loan(
        loan_id=loan_id,
        borrower_id=borrower_id,
        borrower_name=borrower_name,
        amount=application.amount,
        interest_rate=application.interest_rate,
        term=application.term,
        purpose=application.purpose,
        description=application.description,
        status=PENDING,
        total_funded=ZERO,
        created_at=now,
    )


def invite(loan: Loan, invitation: LenderInvite, lender_id: str | None) -> Participant:
    return Participant(
        loan_id=loan.loan_id,
        email=invitation.email,
        lender_id=lender_id,
        contribution_amount=invitation.contribution_amount,
        interest_rate=loan.interest_rate,
        term=loan.term,
        invited_at=loan.created_at,
    )


@dataclass(frozen=True)
class Funding:
    """What one acceptance does: the loan and the participant as they will be stored."""

    loan: Loan
    participant: Participant

    def __post_init__(self) -> None:
        if self.participant.status != ACCEPTED or self.participant.loan_id != self.loan.loan_id:
            raise InvalidInput("A funding accepts a participation of this loan.")

    @property
    def amount(self) -> Decimal:
        return self.participant.funded_amount


def accept(loan: Loan, participant: Participant | None, now: str) -> Funding:
    """Decide one acceptance against the loan as last read, or raise why it cannot happen."""
    if participant is None:
        raise AccessDenied("You are not invited to fund this loan.")
    if participant.status == ACCEPTED:
        raise AlreadyAccepted("You have already accepted this loan.")
    if loan.remaining <= 0:
        raise LoanFullyFunded("This loan is already fully funded.")
    funded = min(participant.contribution_amount, loan.remaining)
    total = loan.total_funded + funded
    completes = total == loan.amount
    return Funding(
        loan=replace(
            loan,
            total_funded=total,
            status=ACTIVE if completes else PENDING,
            activated_at=now if completes else None,
        ),
        participant=replace(
            participant, status=ACCEPTED, funded_amount=funded, responded_at=now
        ),
    )


def funded_total(participants: list[Participant]) -> Decimal:
    """What the accepted participants funded: always the loan's `total_funded`."""
    return sum((p.funded_amount for p in participants if p.status == ACCEPTED), ZERO)


def can_view(loan: Loan, user_id: str, participant: Participant | None) -> bool:
    """Only the borrower and the lenders invited to a loan may see it."""
    return loan.borrower_id == user_id or participant is not None


def expected_interest(principal: Decimal, rate: Decimal, term: str) -> Decimal:
    return simple_interest(principal, rate, term_months(term))


INVITATION_PENDING = "PENDING"
INVITATION_ACTIVATED = "ACTIVATED"


@dataclass(frozen=True)
class Invitation:
    """An invitation to an email nobody had registered when the loan was created.

    It carries the participation's terms so that activating it (when that person registers
    or logs in) needs no read of the loan.
    """

    invitation_id: str
    loan_id: str
    inviter_id: str
    email: str
    contribution_amount: Decimal
    interest_rate: Decimal
    term: str
    created_at: str
    status: str = INVITATION_PENDING

    @classmethod
    def for_participant(cls, invitation_id: str, loan: Loan, participant: Participant) -> "Invitation":
        return cls(
            invitation_id=invitation_id,
            loan_id=loan.loan_id,
            inviter_id=loan.borrower_id,
            email=participant.email,
            contribution_amount=participant.contribution_amount,
            interest_rate=participant.interest_rate,
            term=participant.term,
            created_at=loan.created_at,
        )

    def participant_for(self, lender_id: str) -> Participant:
        return Participant(
            loan_id=self.loan_id,
            email=self.email,
            lender_id=lender_id,
            contribution_amount=self.contribution_amount,
            interest_rate=self.interest_rate,
            term=self.term,
            invited_at=self.created_at,
        )
