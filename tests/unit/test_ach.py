"""service.domain.ach: ACH details validated on the way in and only ever shown masked."""

import re

import pytest

from service.domain.ach import ACCOUNT_TYPES, AchDetails, mask
from service.domain.errors import InvalidInput

ROUTING = "011000015"
ACCOUNT = "000123456789"
CONTRACT_MASK = re.compile(r"^\*+[0-9]{2,4}$")  # AchSummary.*_masked in openapi.yaml


def body(**overrides) -> dict:
    values = {
        "bank_name": "First Example Bank",
        "account_type": "checking",
        "routing_number": ROUTING,
        "account_number": ACCOUNT,
    }
    values.update(overrides)
    return values


def rejected(field: str, **overrides) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        AchDetails.from_request(body(**overrides))
    assert type(caught.value) is InvalidInput
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.details == {"field": field}
    return caught.value


def test_valid_details():
    details = AchDetails.from_request(
        body(bank_name="  First Example Bank \n", special_instructions="  Reference 42  ")
    )
    assert details == AchDetails(
        bank_name="First Example Bank",
        account_type="checking",
        routing_number=ROUTING,
        account_number=ACCOUNT,
        special_instructions="Reference 42",
    )


def test_special_instructions_default_to_empty_and_savings_is_accepted():
    details = AchDetails.from_request(body(account_type="savings"))
    assert details.special_instructions == ""
    assert details.account_type == "savings"
    assert ACCOUNT_TYPES == ("checking", "savings")


@pytest.mark.parametrize("routing", ["021000021", "011000015", "122105155"])
def test_valid_routing_numbers(routing):
    assert AchDetails.from_request(body(routing_number=routing)).routing_number == routing


@pytest.mark.parametrize(
    "routing",
    [
        "011000016",
        "011000014",
        "021000022",
        "123456789",
        "01100001",
        "0110000150",
        "01100001a",
        "",
        "０１１０００００１５",
    ],
)
def test_bad_routing_number(routing):
    error = rejected("routing_number", routing_number=routing)
    assert error.message == "'routing_number' is not a valid ABA routing number."


@pytest.mark.parametrize("account", ["1234", "12345", "0000", "1" * 17])
def test_account_number_lengths_accepted(account):
    assert AchDetails.from_request(body(account_number=account)).account_number == account


@pytest.mark.parametrize(
    "account",
    ["123", "1" * 18, "", "１２３４５", "١٢٣٤٥", "12a45", "12 345", "-12345", "1234.5"],
)
def test_bad_account_number(account):
    error = rejected("account_number", account_number=account)
    assert error.message == "'account_number' must be 4 to 17 digits."


@pytest.mark.parametrize("account_type", ["business", "Checking", "SAVINGS", "", " checking"])
def test_bad_account_type(account_type):
    rejected("account_type", account_type=account_type)


@pytest.mark.parametrize("bank_name", ["", "   ", "\t\n"])
def test_blank_bank_name(bank_name):
    error = rejected("bank_name", bank_name=bank_name)
    assert error.message == "'bank_name' must not be blank."


def test_routing_is_checked_before_the_account():
    rejected("routing_number", routing_number="011000016", account_number="1")


def test_masked_shows_only_the_last_four_digits():
    details = AchDetails.from_request(body())
    assert details.masked() == {
        "bank_name": "First Example Bank",
        "account_type": "checking",
        "routing_number_masked": "*****0015",
        "account_number_masked": "********6789",
    }
    for value in (details.masked()["routing_number_masked"], details.masked()["account_number_masked"]):
        assert CONTRACT_MASK.match(value)


def test_mask():
    assert mask("12345") == "***45"
    assert mask("011000015") == "*****0015"
    assert mask("12345678901234567") == "*" * 13 + "4567"


def test_a_four_digit_account_number_is_never_shown_in_full():
    masked = AchDetails.from_request(body(account_number="9876")).masked()["account_number_masked"]
    assert masked != "9876"
    assert CONTRACT_MASK.match(masked)


def test_repr_and_str_never_contain_the_full_numbers():
    details = AchDetails.from_request(body(special_instructions="call first"))
    for text in (repr(details), str(details), f"{details}", repr([details])):
        assert ACCOUNT not in text
        assert ROUTING not in text
        assert "********6789" in text
        assert "*****0015" in text
        assert "First Example Bank" in text
