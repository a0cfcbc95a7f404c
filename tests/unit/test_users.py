"""service.domain.users: users' roles, canonical emails, display names."""

import pytest

from service.domain.errors import InvalidEmail, InvalidInput
from service.domain.users import (
    EMAIL_PATTERN,
    NOT_BLANK_PATTERN,
    clean_name,
    normalize_email,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("ada@example.com", "ada@example.com"),
        ("Ada@Example.COM", "ada@example.com"),
        ("ADA.LOVELACE+loans@EXAMPLE.co.uk", "ada.lovelace+loans@example.co.uk"),
        (" ada@example.com\n", "ada@example.com"),
        ("o'neil{1}@x-y.example.museum", "o'neil{1}@x-y.example.museum"),
    ],
)
def test_normalize_email_lower_cases(raw, normalized):
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "a@b",
        "no-at-sign",
        "a b@c.com",
        "",
        "@example.com",
        "ada@",
        "ada@@example.com",
        "ada@example.com.",
        "ada@localhost",
        "ada@exa mple.com",
        "Ünïcode@example.com",
        ".ada@example.com",
        "ada..l@example.com",
        "ada@-x.example.com",
        "ada@example.c0m",
        "a" * 250 + "@example.com",
        "a" * 65 + "@example.com",
    ],
)
def test_normalize_email_rejects_invalid(raw):
    with pytest.raises(InvalidEmail) as caught:
        normalize_email(raw)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "INVALID_EMAIL"
    assert caught.value.details == {"email": raw[:254]}
    assert caught.value.message == f"'{raw[:254]}' is not a valid email address."


def test_the_email_rule_is_the_contracts_pattern():
    from service.http.routing import load_spec

    assert load_spec()["components"]["schemas"]["Email"]["pattern"] == EMAIL_PATTERN


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("Ada", "Ada"), ("  Ada Lovelace \n", "Ada Lovelace"), ("\tX\t", "X"), ("A  B", "A  B")],
)
def test_clean_name_strips(raw, clean):
    assert clean_name(raw) == clean


@pytest.mark.parametrize("raw", ["", " ", "\t\n "])
def test_clean_name_rejects_blank_and_names_the_field(raw):
    with pytest.raises(InvalidInput) as caught:
        clean_name(raw)
    assert caught.value.details == {"field": "name"}
    assert caught.value.message == "'name' must not be blank."
    with pytest.raises(InvalidInput) as caught:
        clean_name(raw, "purpose")
    assert caught.value.details == {"field": "purpose"}
    assert caught.value.message == "'purpose' must not be blank."


def test_blank_means_what_the_contracts_pattern_means():
    """ECMAScript's white space, not Python's: U+001D is a character, not a blank."""
    from service.http.routing import load_spec

    schemas = load_spec()["components"]["schemas"]
    for schema, field in [
        ("RegisterRequest", "name"),
        ("CreateLoanRequest", "purpose"),
        ("AcceptLoanRequest", "bank_name"),
    ]:
        assert schemas[schema]["properties"][field]["pattern"] == NOT_BLANK_PATTERN
    assert clean_name("\x1d") == "\x1d"
    assert clean_name("\u3000Ada\ufeff") == "Ada"
    with pytest.raises(InvalidInput):
        clean_name("\u2003\u00a0\t")
