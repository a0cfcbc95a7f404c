"""The error shape as the spec states it: every code the server sends is a documented
`ErrorCode`, `details` is an object whose money is numbers, and the nullable dashboards
(`nullable` beside `allOf: [$ref]`) admit null in the server's own response validation.

`Error.error` admits any string (so clients survive codes added later), which means response
validation no longer catches an undocumented code: the first two tests do."""

import importlib
import json
import pkgutil
from decimal import Decimal

import pytest

import service
from service.domain.errors import DomainError
from service.http.errors import STATUS_BY_CODE, error_body
from service.http.routing import load_spec
from service.http.validation import ExactResponseValidator

from conftest import assert_error, unique_email

SPEC = load_spec()
SCHEMAS = SPEC["components"]["schemas"]


def validator(name: str) -> ExactResponseValidator:
    return ExactResponseValidator({"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]})


def test_the_server_sends_exactly_the_documented_error_codes():
    assert set(STATUS_BY_CODE) == set(SCHEMAS["ErrorCode"]["enum"])
    assert SCHEMAS["Error"]["properties"]["error"]["anyOf"] == [
        {"$ref": "#/components/schemas/ErrorCode"},
        {"type": "string"},
    ]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_domain_error_has_a_documented_code():
    for module in pkgutil.walk_packages(service.__path__, "service."):
        if not module.name.startswith("service.lambdas"):
            importlib.import_module(module.name)
    codes = {cls.code for cls in _subclasses(DomainError)}
    assert codes and codes <= set(STATUS_BY_CODE), codes - set(STATUS_BY_CODE)


def test_money_in_details_is_json_numbers():
    body = json.loads(
        error_body(
            "INVALID_AMOUNT",
            "Too little.",
            {
                "amount": Decimal("1000"),
                "total_contributions": Decimal("999.99"),
                "field": "lenders",
            },
        )
    )
    assert body["details"] == {"amount": 1000, "total_contributions": 999.99, "field": "lenders"}
    assert validator("Error").is_valid({**body, "request_id": "r"})  # no request outside one


@pytest.mark.parametrize("details", [None, {"field": "amount", "minimum": 0.01}, {}])
def test_details_is_an_object_or_null(details):
    body = {"error": "INVALID_INPUT", "message": "m", "details": details, "request_id": "r"}
    assert validator("Error").is_valid(body)


@pytest.mark.parametrize("details", ["amount", ["amount"], 5])
def test_details_is_never_a_scalar_or_a_list(details):
    body = {"error": "INVALID_INPUT", "message": "m", "details": details, "request_id": "r"}
    assert not validator("Error").is_valid(body)


def test_an_unknown_code_still_fits_the_error_shape():
    assert validator("Error").is_valid({"error": "A_CODE_ADDED_LATER", "message": "m"})


def test_dashboards_are_null_or_complete_objects():
    assert validator("Dashboard").is_valid({"borrower": None, "lender": None})
    assert not validator("Dashboard").is_valid({"borrower": {}, "lender": None})
    assert not validator("Dashboard").is_valid({"borrower": "none", "lender": None})
    assert "nullable" not in SCHEMAS["BorrowerDashboard"] and "nullable" not in SCHEMAS["LenderDashboard"]


def test_contributions_below_the_amount_report_numbers_through_http(register):
    borrower = register("borrower")
    response = borrower.post(
        "/loans",
        json={
            "amount": 1000,
            "interest_rate": 5,
            "term": "12 months",
            "purpose": "Tools",
            "lenders": [{"email": unique_email("lender"), "contribution_amount": 999.99}],
        },
    )
    body = assert_error(response, 400, "INVALID_AMOUNT")
    assert body["details"] == {"amount": 1000, "total_contributions": 999.99}


def test_a_loan_created_without_description_has_the_empty_string(register):
    """The spec states this default in prose (a `default:` makes generated TypeScript types
    require the field)."""
    assert "default" not in SCHEMAS["CreateLoanRequest"]["properties"]["description"]
    response = register("borrower").post(
        "/loans",
        json={
            "amount": 100,
            "interest_rate": 5,
            "term": "1 month",
            "purpose": "Tools",
            "lenders": [{"email": unique_email("lender"), "contribution_amount": 100}],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["description"] == ""
