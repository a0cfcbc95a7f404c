"""A request for a new loan, checked as a whole, and the loan and participants it makes."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import InvalidAmount, InvalidEmail, InvalidInput
from .lifecycle import LOANS, LoanEvent, LoanStatus
from .loans import Loan, Participant, check_rate, term_months
from .money import ZERO, amount_in_range
from .users import clean_name, normalize_email, trim

# The contract's most lenders per loan (its `maxItems`): plenty for a private loan, and few
# enough that a loan and all its invitations are written in one transaction.
MAX_LENDERS = 40
MAX_PURPOSE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000


@dataclass(frozen=True)
class LenderInvite:
    email: str
    contribution_amount: Decimal

    def __post_init__(self) -> None:
        if normalize_email(self.email) != self.email:
            raise InvalidEmail("An invited email must be in its normal form.", {"email": self.email})
        amount_in_range(self.contribution_amount, "contribution_amount")


def invites(entries: object) -> tuple[LenderInvite, ...]:
    """The lenders of a request's `lenders` list, each checked."""
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise InvalidInput("'lenders' must be a list of invitations.", {"field": "lenders"})
    return tuple(
        LenderInvite(
            email=normalize_email(entry.get("email")),
            contribution_amount=amount_in_range(
                entry.get("contribution_amount"), f"lenders[{index}].contribution_amount"
            ),
        )
        for index, entry in enumerate(entries)
    )


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
        check_rate(self.interest_rate)
        term_months(self.term)
        if not isinstance(self.lenders, tuple) or not all(isinstance(lender, LenderInvite) for lender in self.lenders):
            raise InvalidInput("'lenders' must be a list of invitations.", {"field": "lenders"})
        self._check_lenders()

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> "LoanApplication":
        lenders = invites(body.get("lenders"))
        return cls(
            amount=amount_in_range(body.get("amount"), "amount"),
            interest_rate=check_rate(body.get("interest_rate")),
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
            raise InvalidInput("Each lender may be invited only once per loan.", {"duplicates": duplicates})
        invited = sum((lender.contribution_amount for lender in self.lenders), ZERO)
        if invited < self.amount:
            raise InvalidAmount(
                "The lenders' contributions must add up to at least the loan amount.",
                {"amount": self.amount, "total_contributions": invited},
            )


def new_loan(
    application: LoanApplication, loan_id: str, borrower_id: str, borrower_name: str, now: str, funding_deadline: str
) -> Loan:
    return Loan(
        loan_id=loan_id,
        borrower_id=borrower_id,
        borrower_name=borrower_name,
        amount=application.amount,
        interest_rate=application.interest_rate,
        term=application.term,
        purpose=application.purpose,
        description=application.description,
        status=LoanStatus.PENDING,
        total_funded=ZERO,
        created_at=now,
        funding_deadline=funding_deadline,
    )


def invite(loan: Loan, invitation: LenderInvite, lender_id: str | None, now: str | None = None) -> Participant:
    return Participant(
        loan_id=loan.loan_id,
        email=invitation.email,
        lender_id=lender_id,
        contribution_amount=invitation.contribution_amount,
        interest_rate=loan.interest_rate,
        term=loan.term,
        invited_at=now or loan.created_at,
    )


def more_lenders(
    loan: Loan, invited: list[Participant], lenders: object, borrower_email: str, now: str
) -> tuple[LenderInvite, ...]:
    """Further lenders for a PENDING loan, by the rules of its creation: each email once per
    loan, never the borrower, at most MAX_LENDERS in all (counting those already invited)."""
    loan.refuse_if_expired(now)
    LOANS.next(loan.status, LoanEvent.INVITE)
    new = invites(lenders)
    if not new:
        raise InvalidInput("Invite at least one lender.", {"field": "lenders"})
    emails = [lender.email for lender in new]
    if borrower_email.lower() in emails:
        raise InvalidInput("A borrower cannot invite themself.", {"email": borrower_email})
    taken = {p.email for p in invited}
    repeated = sorted({email for email in emails if emails.count(email) > 1 or email in taken})
    if repeated:
        raise InvalidInput("Each lender may be invited only once per loan.", {"duplicates": repeated})
    if len(invited) + len(new) > MAX_LENDERS:
        raise InvalidInput(
            f"A loan may invite at most {MAX_LENDERS} lenders; it has {len(invited)}.",
            {"field": "lenders", "invited": len(invited)},
        )
    return new
