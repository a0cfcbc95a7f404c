"""service.domain.loans: terms, loan applications, the funding rule, visibility, invitations."""

import random
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from service.domain.applications import MAX_LENDERS, LenderInvite, LoanApplication, invite, new_loan
from service.domain.errors import (
    AccessDenied,
    AlreadyAccepted,
    InvalidAmount,
    InvalidEmail,
    InvalidInput,
    LoanFullyFunded,
)
from service.domain.funding import Funding, accept
from service.domain.invitations import Invitation
from service.domain.lifecycle import InvitationStatus, LoanStatus, ParticipantStatus
from service.domain.loans import Loan, Participant, can_view, expected_interest, term_months
from service.domain.users import normalize_email

D = Decimal
ACTIVE, PENDING, ACCEPTED = LoanStatus.ACTIVE, LoanStatus.PENDING, ParticipantStatus.ACCEPTED
CREATED = "2026-11-01T09:00:00.000000Z"
NOW = "2026-11-22T10:15:30.123456Z"
CONTRACT = Path(__file__).resolve().parents[2] / "openapi.yaml"


@pytest.fixture(scope="module")
def schemas() -> dict:
    return yaml.safe_load(CONTRACT.read_text())["components"]["schemas"]


def make_loan(amount="1000.00", total_funded="0.00", status=None, **fields) -> Loan:
    """A loan; ACTIVE exactly when fully funded unless `status` says otherwise."""
    status = status or (ACTIVE if D(total_funded) == D(amount) else PENDING)
    values = dict(
        loan_id="loan-1",
        borrower_id="borrower-1",
        borrower_name="Bea Borrower",
        amount=D(amount),
        interest_rate=D("6.50"),
        term="12 months",
        purpose="Working capital",
        description="",
        status=status,
        total_funded=D(total_funded),
        created_at=CREATED,
        funding_deadline="2099-01-01T00:00:00.000000Z",
    )
    values.update(fields)
    return Loan(**values)


def make_participant(contribution="400.00", status=PENDING, **fields) -> Participant:
    values = dict(
        loan_id="loan-1",
        email="lena@example.com",
        contribution_amount=D(contribution),
        interest_rate=D("6.50"),
        term="12 months",
        invited_at=CREATED,
        lender_id="lender-1",
        status=status,
    )
    values.update(fields)
    return Participant(**values)


def body(**overrides) -> dict:
    values = {
        "amount": 1000,
        "interest_rate": 6.5,
        "term": "12 months",
        "purpose": "Working capital",
        "lenders": [
            {"email": "ada@example.com", "contribution_amount": 600},
            {"email": "bob@example.com", "contribution_amount": 400},
        ],
    }
    values.update(overrides)
    return values


def lenders(count: int, each=100) -> list[dict]:
    return [{"email": f"lender{i}@example.com", "contribution_amount": each} for i in range(count)]


# -- term_months ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "months"),
    [
        ("1 month", 1),
        ("2 months", 2),
        ("12 months", 12),
        ("99 months", 99),
        ("100 months", 100),
        ("359 months", 359),
        ("360 months", 360),
    ],
)
def test_term_months_valid(term, months):
    assert term_months(term) == months


@pytest.mark.parametrize(
    "term",
    [
        "0 months",
        "0 month",
        "1 months",
        "2 month",
        "361 months",
        "999 months",
        "1000 months",
        "012 months",
        "01 month",
        "-1 months",
        "12 Months",
        "12 MONTHS",
        " 12 months",
        "12  months",
        "12 months ",
        "12months",
        "12",
        "months",
        "",
        "twelve months",
        "12 mos",
        "12 monthss",
        "１２ months",
        "12 months, please",
    ],
)
def test_term_months_invalid(term):
    with pytest.raises(InvalidInput) as caught:
        term_months(term)
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.details == {"field": "term"}


def test_term_months_rejects_a_trailing_newline():
    with pytest.raises(InvalidInput):
        term_months("12 months\n")


def test_term_months_agrees_with_the_contract_pattern(schemas):
    pattern = re.compile(schemas["Term"]["pattern"])
    for n in range(0, 1001):
        for suffix in ("month", "months"):
            term = f"{n} {suffix}"
            contract_ok = pattern.fullmatch(term) is not None
            try:
                domain_ok = term_months(term) == n
            except InvalidInput:
                domain_ok = False
            assert domain_ok == contract_ok, term
            assert domain_ok == (1 <= n <= 360 and (suffix == "month") == (n == 1)), term


# -- Loan and Participant properties -------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "funded", "remaining", "progress"),
    [
        ("1000.00", "0.00", "1000.00", "0.00"),
        ("1000.00", "333.33", "666.67", "33.33"),
        ("1000.00", "999.99", "0.01", "99.99"),
        ("1000.00", "1000.00", "0.00", "100.00"),
        ("3.00", "2.00", "1.00", "66.66"),
    ],
)
def test_loan_remaining_and_progress(amount, funded, remaining, progress):
    loan = make_loan(amount, funded)
    assert str(loan.remaining) == remaining
    assert str(loan.funding_progress) == progress


def test_loan_months_and_participant_registered():
    assert make_loan(term="1 month").months == 1
    assert make_loan(term="36 months").months == 36
    assert make_participant(lender_id="lender-7").registered is True
    assert make_participant(lender_id=None).registered is False


def test_expected_interest_uses_the_term_in_months():
    assert expected_interest(D("1000"), D("6.5"), "12 months") == D("65.00")
    assert expected_interest(D("1000"), D("12"), "1 month") == D("10.00")
    with pytest.raises(InvalidInput):
        expected_interest(D("1000"), D("6.5"), "12 weeks")


# -- LoanApplication.from_request ----------------------------------------------------------


def test_from_request_happy_path_normalises():
    application = LoanApplication.from_request(
        body(
            amount=1000,
            interest_rate=6.5,
            purpose="  Working capital \n",
            description="  Inventory for the holidays.  ",
            lenders=[
                {"email": "Ada@Example.COM", "contribution_amount": 600},
                {"email": "BOB@example.com", "contribution_amount": 400.5},
            ],
        )
    )
    assert application == LoanApplication(
        amount=D("1000.00"),
        interest_rate=D("6.50"),
        term="12 months",
        purpose="Working capital",
        description="Inventory for the holidays.",
        lenders=(
            LenderInvite(email="ada@example.com", contribution_amount=D("600.00")),
            LenderInvite(email="bob@example.com", contribution_amount=D("400.50")),
        ),
    )
    assert application.emails == ["ada@example.com", "bob@example.com"]
    assert str(application.amount) == "1000.00"
    assert str(application.lenders[1].contribution_amount) == "400.50"


def test_from_request_description_defaults_to_empty():
    application = LoanApplication.from_request(body())
    assert application.description == ""
    assert isinstance(application.lenders, tuple)


def test_from_request_rejects_emails_duplicated_up_to_case():
    with pytest.raises(InvalidInput) as caught:
        LoanApplication.from_request(
            body(
                amount=100,
                lenders=[
                    {"email": "Bob@Example.com", "contribution_amount": 50},
                    {"email": "ada@example.com", "contribution_amount": 50},
                    {"email": "bob@example.com", "contribution_amount": 50},
                    {"email": "ADA@EXAMPLE.COM", "contribution_amount": 50},
                    {"email": "carl@example.com", "contribution_amount": 50},
                ],
            )
        )
    assert type(caught.value) is InvalidInput
    assert caught.value.details == {"duplicates": ["ada@example.com", "bob@example.com"]}
    assert "only once" in caught.value.message


def test_from_request_rejects_contributions_short_of_the_amount():
    with pytest.raises(InvalidAmount) as caught:
        LoanApplication.from_request(
            body(
                amount=1000,
                lenders=[
                    {"email": "ada@example.com", "contribution_amount": 600},
                    {"email": "bob@example.com", "contribution_amount": 399.99},
                ],
            )
        )
    assert caught.value.code == "INVALID_AMOUNT"
    assert caught.value.details == {"amount": D("1000.00"), "total_contributions": D("999.99")}


def test_from_request_accepts_contributions_exactly_equal_to_the_amount():
    application = LoanApplication.from_request(
        body(
            amount=0.3,
            lenders=[
                {"email": "ada@example.com", "contribution_amount": 0.1},
                {"email": "bob@example.com", "contribution_amount": 0.2},
            ],
        )
    )
    # 0.1 + 0.2 != 0.3 in floats; in the exact amounts it is.
    assert sum(lender.contribution_amount for lender in application.lenders) == application.amount


def test_from_request_allows_over_subscription():
    application = LoanApplication.from_request(
        body(
            amount=1000,
            lenders=[
                {"email": "ada@example.com", "contribution_amount": 700},
                {"email": "bob@example.com", "contribution_amount": 700},
            ],
        )
    )
    assert [lender.contribution_amount for lender in application.lenders] == [D("700"), D("700")]


@pytest.mark.parametrize("rate", [0, 0.01, 6.5, 99.99, 100])
def test_from_request_rate_up_to_100(rate):
    assert LoanApplication.from_request(body(interest_rate=rate)).interest_rate == to_decimal(rate)


def to_decimal(value) -> Decimal:
    return D(repr(value)).quantize(D("0.01"))


@pytest.mark.parametrize("rate", [100.01, 101, 1000])
def test_from_request_rejects_rate_above_100(rate):
    with pytest.raises(InvalidInput) as caught:
        LoanApplication.from_request(body(interest_rate=rate))
    assert type(caught.value) is InvalidInput
    assert caught.value.details["field"] == "interest_rate"


def test_from_request_rate_with_three_decimals_is_invalid_input_not_invalid_amount():
    with pytest.raises(InvalidInput) as caught:
        LoanApplication.from_request(body(interest_rate=6.505))
    assert type(caught.value) is InvalidInput
    assert caught.value.details == {"field": "interest_rate"}


def test_from_request_amount_errors_name_the_field():
    with pytest.raises(InvalidAmount) as caught:
        LoanApplication.from_request(body(amount=1000.005))
    assert caught.value.details == {"field": "amount"}
    with pytest.raises(InvalidAmount) as caught:
        LoanApplication.from_request(
            body(
                lenders=[
                    {"email": "ada@example.com", "contribution_amount": 600},
                    {"email": "bob@example.com", "contribution_amount": 400.001},
                ]
            )
        )
    assert caught.value.details == {"field": "lenders[1].contribution_amount"}


@pytest.mark.parametrize("purpose", ["", "   ", "\t\n"])
def test_from_request_rejects_blank_purpose(purpose):
    with pytest.raises(InvalidInput) as caught:
        LoanApplication.from_request(body(purpose=purpose))
    assert caught.value.details == {"field": "purpose"}


def test_from_request_rejects_bad_term():
    with pytest.raises(InvalidInput) as caught:
        LoanApplication.from_request(body(term="13 month"))
    assert caught.value.details == {"field": "term"}


def test_from_request_rejects_invalid_lender_email():
    with pytest.raises(InvalidEmail) as caught:
        LoanApplication.from_request(body(lenders=[{"email": "a@b", "contribution_amount": 1000}]))
    assert caught.value.details == {"email": "a@b"}


def test_from_request_rejects_no_lenders():
    with pytest.raises(InvalidInput) as caught:
        LoanApplication.from_request(body(lenders=[]))
    assert caught.value.details == {"field": "lenders"}


def test_max_lenders_matches_the_contract(schemas):
    assert MAX_LENDERS == 40
    assert schemas["CreateLoanRequest"]["properties"]["lenders"]["maxItems"] == MAX_LENDERS


def test_from_request_accepts_as_many_lenders_as_the_contract_allows():
    application = LoanApplication.from_request(body(amount=4000, lenders=lenders(40)))
    assert len(application.lenders) == 40
    assert application.emails[39] == "lender39@example.com"


def test_from_request_rejects_more_lenders_than_the_contract_allows():
    with pytest.raises(InvalidInput) as caught:
        LoanApplication.from_request(body(amount=100, lenders=lenders(41)))
    assert caught.value.details == {"field": "lenders"}
    assert caught.value.message == "Invite between 1 and 40 lenders."


# -- check_borrower ------------------------------------------------------------------------


def test_check_borrower_rejects_self_invitation_case_insensitively():
    application = LoanApplication.from_request(
        body(
            lenders=[
                {"email": "Bea@Example.COM", "contribution_amount": 600},
                {"email": "bob@example.com", "contribution_amount": 400},
            ]
        )
    )
    # The use case passes the stored (normalised) email of the borrower.
    for borrower_email in ("bea@example.com", normalize_email("BEA@EXAMPLE.COM")):
        with pytest.raises(InvalidInput) as caught:
            application.check_borrower(borrower_email)
        assert caught.value.details == {"email": "bea@example.com"}
        assert "cannot invite themself" in caught.value.message


def test_check_borrower_allows_someone_else():
    application = LoanApplication.from_request(body())
    assert application.check_borrower("bea@example.com") is None


# -- new_loan and invite -------------------------------------------------------------------


def test_new_loan_and_invite_copy_the_application():
    application = LoanApplication.from_request(body(description="Stock"))
    loan = new_loan(application, "loan-9", "borrower-9", "Bea", NOW, "2026-12-22T10:15:30.123456Z")
    assert loan == Loan(
        loan_id="loan-9",
        borrower_id="borrower-9",
        borrower_name="Bea",
        amount=D("1000"),
        interest_rate=D("6.5"),
        term="12 months",
        purpose="Working capital",
        description="Stock",
        status=PENDING,
        total_funded=D("0"),
        created_at=NOW,
        funding_deadline="2026-12-22T10:15:30.123456Z",
        activated_at=None,
    )
    participant = invite(loan, application.lenders[0], None)
    assert participant == Participant(
        loan_id="loan-9",
        email="ada@example.com",
        contribution_amount=D("600"),
        interest_rate=D("6.5"),
        term="12 months",
        invited_at=NOW,
        lender_id=None,
        status=PENDING,
        funded_amount=D("0"),
        responded_at=None,
    )
    assert invite(loan, application.lenders[1], "lender-2").lender_id == "lender-2"


# -- accept --------------------------------------------------------------------------------


def test_accept_full_contribution_leaves_loan_pending():
    loan = make_loan("1000.00", "0.00")
    participant = make_participant("400.00")
    funding = accept(loan, participant, NOW)
    assert isinstance(funding, Funding)
    assert funding.amount == D("400.00")
    assert funding.loan == replace(loan, total_funded=D("400.00"))
    assert funding.loan.status == PENDING and funding.loan.activated_at is None
    assert funding.participant == replace(participant, status=ACCEPTED, funded_amount=D("400.00"), responded_at=NOW)
    # The inputs are untouched.
    assert loan.total_funded == D("0") and participant.status == PENDING


def test_accept_that_exactly_completes_activates_the_loan():
    loan = make_loan("1000.00", "600.00")
    funding = accept(loan, make_participant("400.00"), NOW)
    assert funding.amount == D("400.00")
    assert funding.loan.total_funded == D("1000.00")
    assert funding.loan.status == ACTIVE
    assert funding.loan.activated_at == NOW
    assert funding.loan.remaining == 0
    assert funding.loan.funding_progress == D("100.00")


def test_accept_partial_fill_funds_only_the_remainder():
    loan = make_loan("1000.00", "700.00")
    participant = make_participant("500.00")
    funding = accept(loan, participant, NOW)
    assert funding.amount == D("300.00")
    assert funding.participant.funded_amount == D("300.00")
    assert funding.participant.contribution_amount == D("500.00")
    assert funding.participant.status == ACCEPTED
    assert funding.loan.total_funded == D("1000.00")
    assert funding.loan.status == ACTIVE
    assert funding.loan.activated_at == NOW


def test_accept_one_cent_short_stays_pending():
    funding = accept(make_loan("1000.00", "0.00"), make_participant("999.99"), NOW)
    assert funding.loan.status == PENDING
    assert funding.loan.activated_at is None
    assert funding.loan.remaining == D("0.01")


def test_accept_on_fully_funded_loan_is_refused():
    loan = make_loan("1000.00", "1000.00", status=ACTIVE, activated_at=CREATED)
    with pytest.raises(LoanFullyFunded) as caught:
        accept(loan, make_participant("400.00"), NOW)
    assert caught.value.code == "LOAN_FULLY_FUNDED"


def test_already_accepted_is_checked_before_fully_funded():
    loan = make_loan("1000.00", "1000.00", status=ACTIVE, activated_at=CREATED)
    accepted = make_participant("400.00", status=ACCEPTED, funded_amount=D("400.00"))
    with pytest.raises(AlreadyAccepted) as caught:
        accept(loan, accepted, NOW)
    assert caught.value.code == "ALREADY_ACCEPTED"
    with pytest.raises(AlreadyAccepted):
        accept(make_loan("1000.00", "400.00"), accepted, NOW)


@pytest.mark.parametrize("funded", ["0.00", "1000.00"])
def test_accept_without_a_participation_is_access_denied(funded):
    with pytest.raises(AccessDenied) as caught:
        accept(make_loan("1000.00", funded), None, NOW)
    assert caught.value.code == "ACCESS_DENIED"


def test_accept_in_sequence_property():
    """For random loans and contributions, accepting in order keeps the books straight."""
    rng = random.Random(1122)
    for case in range(400):
        amount = D(rng.randint(1, 10**7)) / 100
        contributions = [D(rng.randint(1, 10**6)) / 100 for _ in range(rng.randint(1, 25))]
        if rng.random() < 0.3:  # sometimes one contribution covers everything
            contributions.insert(rng.randrange(len(contributions) + 1), amount)
        loan = make_loan(str(amount), "0.00")
        funded_amounts = []
        for index, contribution in enumerate(contributions):
            participant = make_participant(str(contribution), email=f"l{index}@example.com")
            before = loan
            try:
                funding = accept(loan, participant, f"2026-11-22T10:{index // 60:02d}:{index % 60:02d}.000000Z")
            except LoanFullyFunded:
                assert before.remaining == 0 and before.status == ACTIVE, case
                continue
            loan = funding.loan
            funded_amounts.append(funding.amount)
            assert funding.amount == min(contribution, before.remaining), case
            assert 0 < funding.amount <= contribution, case
            assert 0 <= loan.total_funded <= loan.amount, case
            assert loan.total_funded == sum(funded_amounts), case
            assert (loan.status == ACTIVE) == (loan.total_funded == loan.amount), case
            moment = f"2026-11-22T10:{index // 60:02d}:{index % 60:02d}.000000Z"
            assert loan.activated_at == (moment if loan.status == ACTIVE else None), case
        assert (loan.status == ACTIVE) == (sum(contributions) >= amount), case
        assert loan.total_funded == min(sum(contributions), amount), case


# -- can_view ------------------------------------------------------------------------------


def test_can_view():
    loan = make_loan()
    assert can_view(loan, "borrower-1", None) is True
    assert can_view(loan, "lender-1", make_participant()) is True
    assert can_view(loan, "stranger", None) is False
    assert can_view(loan, "borrower-1", make_participant()) is True


# -- Invitation ----------------------------------------------------------------------------


def test_invitation_round_trip_for_an_unregistered_lender():
    loan = make_loan("2500.00", interest_rate=D("7.25"), term="24 months")
    participant = invite(loan, LenderInvite("newbie@example.com", D("1500.00")), None)
    invitation = Invitation.for_participant("inv-1", loan, participant)
    assert invitation == Invitation(
        invitation_id="inv-1",
        loan_id="loan-1",
        inviter_id="borrower-1",
        email="newbie@example.com",
        contribution_amount=D("1500.00"),
        interest_rate=D("7.25"),
        term="24 months",
        created_at=CREATED,
        status=InvitationStatus.PENDING,
    )
    registered = invitation.participant_for("lender-42")
    assert registered == replace(participant, lender_id="lender-42")
    assert registered.registered and registered.status == PENDING
    assert registered.funded_amount == 0 and registered.responded_at is None
