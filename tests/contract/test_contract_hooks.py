"""The contract run's `aba-routing-number` format: every number it generates is one the
server accepts (the same checksum, python-stdnum's), and the spec names the format."""

import re

from hypothesis import given, settings
from schemathesis.specs.openapi.formats import STRING_FORMATS
from stdnum.us import rtn

import devstack.contract_hooks  # noqa: F401  (registers the format)
from service.domain.ach import AchDetails
from service.http.routing import load_spec

ROUTING = load_spec()["components"]["schemas"]["AcceptLoanRequest"]["properties"]["routing_number"]


def test_the_spec_declares_the_format():
    assert ROUTING["format"] == "aba-routing-number"
    assert "checksum" in ROUTING["description"]


@settings(max_examples=200, database=None, deadline=None)
@given(STRING_FORMATS["aba-routing-number"])
def test_generated_routing_numbers_are_valid(number):
    assert re.fullmatch(ROUTING["pattern"], number)
    assert rtn.is_valid(number)
    AchDetails("First Example Bank", "checking", number, "000123456789")


def test_a_number_with_a_wrong_check_digit_is_not_what_the_format_makes():
    assert rtn.is_valid("011000015") and not rtn.is_valid("011000016")
