"""The domain holds its invariants on its own: every constructor refuses a bad value,
whatever the HTTP layer let through (the integrity review's smuggled bodies carried negative
contributions, an amount of 5e11, a negative rate, a two-character password and a number
where the account number must be a string; each is refused here, with no HTTP involved)."""

from dataclasses import replace
from decimal import Decimal

import pytest

from service.domain.ach import AchDetails
from service.domain.applications import MAX_LENDERS, LenderInvite, LoanApplication
from service.domain.errors import InvalidAmount, InvalidEmail, InvalidInput
from service.domain.funding import Funding, accept
from service.domain.lifecycle import LoanStatus, ParticipantStatus
from service.domain.loans import Loan, Participant
from service.domain.users import User, check_password

D = Decimal
ACTIVE, PENDING, ACCEPTED = LoanStatus.ACTIVE, LoanStatus.PENDING, ParticipantStatus.ACCEPTED
NOW = "2026-11-22T10:15:30.123456Z"


def loan(**changes) -> Loan:
    values = dict(
        loan_id="loan-1",
        borrower_id="b-1",
        borrower_name="Bea",
        amount=D("100.00"),
        interest_rate=D("5.00"),
        term="12 months",
        purpose="p",
        description="",
        status=PENDING,
        total_funded=D("0.00"),
        created_at=NOW,
        funding_deadline="2099-01-01T00:00:00.000000Z",
    )
    return Loan(**{**values, **changes})


def participant(**changes) -> Participant:
    values = dict(
        loan_id="loan-1",
        email="lee@example.com",
        contribution_amount=D("100.00"),
        interest_rate=D("5.00"),
        term="12 months",
        invited_at=NOW,
        lender_id="l-1",
    )
    return Participant(**{**values, **changes})


def application_body(**changes) -> dict:
    body = {
        "amount": D(100),
        "interest_rate": D(5),
        "term": "12 months",
        "purpose": "p",
        "lenders": [{"email": "lee@example.com", "contribution_amount": D(100)}],
    }
    return {**body, **changes}


ACH = dict(bank_name="Bank", account_type="checking", routing_number="011000015", account_number="000123456789")


# -- loans ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount", [D("0"), D("-1"), D("-100.00"), D("100000000.01"), D("5e11"), D("1.001"), "100", True, None, 100.5j]
)
def test_a_loan_amount_must_be_a_positive_amount_within_the_maximum(amount):
    with pytest.raises(InvalidAmount):
        loan(amount=amount)


@pytest.mark.parametrize("rate", [D("-0.01"), D("-5"), D("100.01"), D("5.001"), "5", None])
def test_a_loan_rate_is_0_to_100(rate):
    with pytest.raises(InvalidInput):
        loan(interest_rate=rate)


@pytest.mark.parametrize("term", ["0 months", "361 months", "1 months", "2 month", 12, None, " 12 months"])
def test_a_loan_term_is_1_to_360_months(term):
    with pytest.raises(InvalidInput):
        loan(term=term)


@pytest.mark.parametrize("funded", [D("-0.01"), D("-100"), D("100.01"), D("200.00")])
def test_total_funded_stays_between_zero_and_the_amount(funded):
    with pytest.raises(InvalidAmount):
        loan(total_funded=funded, status=ACTIVE if funded == D(100) else PENDING)


def test_a_loan_is_active_exactly_when_fully_funded():
    with pytest.raises(InvalidAmount):
        loan(status=ACTIVE, total_funded=D("99.99"))
    with pytest.raises(InvalidAmount):
        loan(status=PENDING, total_funded=D("100.00"))
    with pytest.raises(InvalidInput):
        loan(status="FUNDED")
    assert loan(status=ACTIVE, total_funded=D("100.00")).remaining == 0


# -- participants and invitations ----------------------------------------------------------


@pytest.mark.parametrize("contribution", [D("0"), D("-100"), D("5e11"), D("0.001"), "100", None])
def test_a_contribution_is_a_positive_amount_within_the_maximum(contribution):
    with pytest.raises(InvalidAmount):
        participant(contribution_amount=contribution)
    with pytest.raises(InvalidAmount):
        LenderInvite(email="lee@example.com", contribution_amount=contribution)


def test_what_a_participant_funded_is_nothing_while_pending_and_at_most_the_contribution():
    with pytest.raises(InvalidAmount):
        participant(funded_amount=D("1.00"))  # pending, yet funded
    with pytest.raises(InvalidAmount):
        participant(status=ACCEPTED, funded_amount=D("100.01"))
    with pytest.raises(InvalidAmount):
        participant(status=ACCEPTED, funded_amount=D("0.00"))
    with pytest.raises(InvalidAmount):
        participant(status=ACCEPTED, funded_amount=D("-50.00"))
    assert participant(status=ACCEPTED, funded_amount=D("0.01")).funded_amount == D("0.01")


@pytest.mark.parametrize("email", ["Lee@Example.com", " lee@example.com", "not-an-email", 42, None])
def test_an_invitation_names_a_normalised_email(email):
    with pytest.raises(InvalidEmail):
        LenderInvite(email=email, contribution_amount=D(10))


# -- applications: the smuggled bodies of the review, straight into the domain -------------


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": D("-100")},
        {"amount": D("5e11")},
        {"amount": "100"},
        {"interest_rate": D("-5")},
        {"interest_rate": D("100.5")},
        {"term": 12},
        {"purpose": 7},
        {"purpose": "   "},
        {"description": 5},
        {"description": "x" * 2001},
        {
            "lenders": [
                {"email": "lee@example.com", "contribution_amount": D("-100")},
                {"email": "sam@example.com", "contribution_amount": D(200)},
            ]
        },
        {"lenders": [{"email": "lee@example.com", "contribution_amount": "100"}]},
        {"lenders": [{"email": 5, "contribution_amount": D(100)}]},
        {"lenders": "lee@example.com"},
        {"lenders": [7]},
        {"lenders": []},
        {"lenders": [{"email": f"l{i}@example.com", "contribution_amount": D(10)} for i in range(MAX_LENDERS + 1)]},
        {"lenders": [{"email": "lee@example.com", "contribution_amount": D(50)}]},  # short of the amount
        {
            "lenders": [
                {"email": "lee@example.com", "contribution_amount": D(50)},
                {"email": "LEE@example.com", "contribution_amount": D(50)},
            ]
        },  # one email twice
    ],
)
def test_a_loan_application_refuses_what_the_http_layer_might_let_through(changes):
    with pytest.raises(InvalidInput):
        LoanApplication.from_request(application_body(**changes))


def test_an_application_made_directly_is_checked_too():
    good = LoanApplication.from_request(application_body())
    with pytest.raises(InvalidAmount):
        replace(good, amount=D("1000"))  # the invitations no longer cover it
    with pytest.raises(InvalidInput):
        replace(good, lenders=("lee@example.com",))


# -- funding -------------------------------------------------------------------------------


def test_the_over_funding_sequence_cannot_be_built():
    """The review's attack: one lender 'funding' -100.00 so that another's 200.00 fills a
    100.00 loan. Neither the negative contribution nor the over-funded loan can exist."""
    with pytest.raises(InvalidAmount):
        participant(contribution_amount=D("-100.00"))
    with pytest.raises(InvalidAmount):
        loan(total_funded=D("-100.00"))
    second = participant(email="sam@example.com", lender_id="l-2", contribution_amount=D("200.00"))
    funding = accept(loan(), second, NOW)
    assert funding.amount == D("100.00") and funding.loan.status == ACTIVE


def test_a_funding_accepts_a_participation_of_its_own_loan():
    funded = accept(loan(), participant(), NOW)
    with pytest.raises(InvalidInput):
        Funding(loan=funded.loan, participant=participant())  # still pending
    with pytest.raises(InvalidInput):
        Funding(loan=replace(funded.loan, loan_id="loan-2"), participant=funded.participant)


# -- bank details and accounts -------------------------------------------------------------

BAD_ACH = [
    {"account_number": 123456},
    {"account_number": "123"},
    {"account_number": "1" * 18},
    {"account_number": "١٢٣٤٥"},
    {"routing_number": 11000015},
    {"routing_number": "011000016"},
    {"routing_number": "01100001"},
    {"account_type": "crypto"},
    {"account_type": None},
    {"bank_name": "  "},
    {"bank_name": 5},
    {"special_instructions": "x" * 501},
    {"special_instructions": 5},
]


@pytest.mark.parametrize("changes", BAD_ACH + [{"bank_name": " Bank"}])
def test_bank_details_are_checked_by_their_constructor(changes):
    with pytest.raises(InvalidInput):
        AchDetails(**{**ACH, **changes})


@pytest.mark.parametrize("changes", BAD_ACH)
def test_bank_details_from_a_request_are_checked(changes):
    with pytest.raises(InvalidInput):
        AchDetails.from_request({**ACH, **changes})


@pytest.mark.parametrize("password", ["pw", "1234567", "x" * 129, 12345678, None, b"password-bytes"])
def test_a_password_is_a_string_of_8_to_128_characters(password):
    with pytest.raises(InvalidInput):
        check_password(password)


def test_a_user_has_a_normalised_email_and_a_trimmed_name():
    User(user_id="u", email="ada@example.com", name="Ada", created_at=NOW)
    with pytest.raises(InvalidEmail):
        User(user_id="u", email="Ada@Example.com", name="Ada", created_at=NOW)
    with pytest.raises(InvalidInput):
        User(user_id="u", email="ada@example.com", name=" Ada", created_at=NOW)
