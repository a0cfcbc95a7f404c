"""service.http.validation: exact `multipleOf` for request bodies parsed with Decimal numbers."""

import json
from decimal import Decimal

import pytest
from jsonschema import Draft4Validator

from service.http.validation import ExactRequestValidator

MONEY = {"type": "number", "multipleOf": 0.01}
# openapi.yaml's Money schema
CONTRACT_MONEY = {"type": "number", "minimum": 0.01, "maximum": 100000000, "multipleOf": 0.01}


def errors(schema: dict, instance) -> list[str]:
    return [error.validator for error in ExactRequestValidator(schema).iter_errors(instance)]


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.07"),
        Decimal("1234567.89"),
        Decimal("0.01"),
        Decimal("100000000"),
        Decimal("0.29"),
        Decimal("0.57"),
        Decimal("1.10"),
        Decimal("1.230"),
        5,
        0,
        0.07,
        0.29,
    ],
)
def test_exact_multiple_of_accepts_two_decimal_values(value):
    assert ExactRequestValidator(MONEY).is_valid(value)
    assert errors(MONEY, value) == []


@pytest.mark.parametrize("value", [Decimal("0.005"), Decimal("1.001"), Decimal("1234567.891"), 0.005])
def test_exact_multiple_of_rejects_a_third_decimal_place(value):
    found = list(ExactRequestValidator(MONEY).iter_errors(value))
    assert [error.validator for error in found] == ["multipleOf"]
    assert "is not a multiple of 0.01" in found[0].message


def test_exact_multiple_of_with_other_steps():
    assert ExactRequestValidator({"multipleOf": 0.25}).is_valid(Decimal("1.75"))
    assert not ExactRequestValidator({"multipleOf": 0.25}).is_valid(Decimal("1.70"))
    assert ExactRequestValidator({"multipleOf": 3}).is_valid(9)
    assert not ExactRequestValidator({"multipleOf": 3}).is_valid(10)


def test_non_numbers_are_left_to_the_type_keyword():
    assert errors(MONEY, "0.07") == ["type"]
    assert errors(MONEY, True) == ["type"]
    assert ExactRequestValidator({"multipleOf": 0.01}).is_valid("anything")


def test_stock_draft4_validator_misjudges_floats():
    """Why the custom validator exists: with floats, 0.07 / 0.01 is 7.000000000000001."""
    assert 0.07 / 0.01 != 7
    stock = Draft4Validator(MONEY)
    assert not stock.is_valid(0.07)
    assert not stock.is_valid(0.29)
    assert ExactRequestValidator(MONEY).is_valid(0.07)


def test_contract_money_with_decimal_parsed_bodies():
    parse = lambda text: json.loads(text, parse_float=Decimal)  # noqa: E731
    schema = {"type": "object", "properties": {"amount": CONTRACT_MONEY}}
    validator = ExactRequestValidator(schema)
    assert validator.is_valid(parse('{"amount": 0.07}'))
    assert validator.is_valid(parse('{"amount": 100000000.00}'))
    assert [e.validator for e in validator.iter_errors(parse('{"amount": 0.005}'))] == ["minimum", "multipleOf"]
    assert [e.validator for e in validator.iter_errors(parse('{"amount": 100000000.01}'))] == ["maximum"]


def test_huge_numbers_do_not_crash_the_validator():
    huge = json.loads("1e30", parse_float=Decimal)
    assert errors(CONTRACT_MONEY, huge) == ["maximum"]
    assert ExactRequestValidator(MONEY).is_valid(huge)  # 1e30 is a multiple of 0.01
