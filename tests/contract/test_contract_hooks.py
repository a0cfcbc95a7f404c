"""The contract run's hooks: every routing number the `aba-routing-number` format generates is
one the server accepts (the same checksum, python-stdnum's), and the spec names the format; a
loan request the hooks fill is one the server accepts whatever was generated."""

import re
import time
from types import SimpleNamespace

import jwt
from hypothesis import given, settings
from schemathesis.specs.openapi.formats import STRING_FORMATS
from stdnum.us import rtn

import devstack.contract_hooks  # noqa: F401  (registers the format)
from devstack import contract_setup
from devstack.contract_accounts import as_own_account
from devstack.contract_substitutes import SUBSTITUTES
from service.domain.ach import AchDetails
from service.domain.deadlines import funding_deadline
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


def test_a_filled_loan_request_is_covered_and_due_within_the_window(monkeypatch):
    # A timestamp Schemathesis took from an earlier response (a loan's `created_at`) is a
    # schema-valid deadline the server must refuse; the filled case asks for one it accepts.
    monkeypatch.setattr(contract_setup, "_fixtures", {"email_domain": "example.com"})
    case = SimpleNamespace(
        body={
            "amount": 500.0,
            "lenders": [{"email": "a@example.com", "contribution_amount": 0.01}] * 2,
            "funding_deadline": "2026-12-01T14:33:31.770339Z",
        }
    )

    assert SUBSTITUTES["createLoan"](case)

    lenders = case.body["lenders"]
    assert sum(lender["contribution_amount"] for lender in lenders) >= case.body["amount"]
    assert len({lender["email"] for lender in lenders}) == len(lenders)
    funding_deadline(case.body["funding_deadline"], time.time(), min_window_seconds=3600)


def test_a_filled_invitation_fits_the_loan_it_goes_to(monkeypatch):
    # The pending loans the fixtures made each invite one lender: at most 39 more fit.
    monkeypatch.setattr(contract_setup, "_fixtures", {"email_domain": "example.com", "pending_loans": ["loan-1"]})
    case = SimpleNamespace(
        body={"lenders": [{"email": "a@example.com", "contribution_amount": 1}] * 40},
        path_parameters={"loan_id": "made-up"},
    )

    assert SUBSTITUTES["inviteLenders"](case)

    emails = [lender["email"] for lender in case.body["lenders"]]
    assert len(emails) == len(set(emails)) == 39
    assert case.path_parameters == {"loan_id": "loan-1"}
    assert not SUBSTITUTES["inviteLenders"](case)  # each loan once


def test_only_a_peers_token_is_swapped_for_another_account(monkeypatch):
    # An Authorization header Schemathesis generated must reach the API as it is: swapped for
    # a real token, the ignored-auth check would see a made-up credential succeed.
    monkeypatch.setattr(contract_setup, "_fixtures", {"peer_ids": {"alice": "alice-id"}, "unverified_tokens": ["u1"]})
    alices = jwt.encode({"sub": "alice-id"}, "k" * 32, algorithm="HS256")
    someone_elses = jwt.encode({"sub": "mallory-id"}, "k" * 32, algorithm="HS256")
    for header in ["Bearer made-up", f"Bearer {someone_elses}", f"Basic {alices}", "S2'}fTJMp"]:
        case = SimpleNamespace(headers={"Authorization": header}, body={"current_password": "x"})
        assert not SUBSTITUTES["resendVerification"](case)
        assert not as_own_account(case, real_password=True)
        assert case.headers == {"Authorization": header} and case.body == {"current_password": "x"}

    sent_as_alice = SimpleNamespace(headers={"Authorization": f"Bearer {alices}"})
    assert SUBSTITUTES["resendVerification"](sent_as_alice)
    assert sent_as_alice.headers == {"Authorization": "Bearer u1"}
