"""service.domain.users: users' roles, canonical emails, display names."""

import pytest

from service.domain.errors import InvalidEmail, InvalidInput
from service.domain.users import ACTIVE_LENDER, BORROWER_ONLY, User, clean_name, normalize_email


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("ada@example.com", "ada@example.com"),
        ("Ada@Example.COM", "ada@example.com"),
        ("ADA.LOVELACE+loans@EXAMPLE.co.uk", "ada.lovelace+loans@example.co.uk"),
        ("Ünïcode@Example.com", "ünïcode@example.com"),
    ],
)
def test_normalize_email_lower_cases(raw, normalized):
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    ["a@b", "no-at-sign", "a b@c.com", "", "@example.com", "ada@", "ada@@example.com",
     " ada@example.com", "ada@example.com.", "ada@localhost", "ada@exa mple.com"],
)
def test_normalize_email_rejects_invalid(raw):
    with pytest.raises(InvalidEmail) as caught:
        normalize_email(raw)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "INVALID_EMAIL"
    assert caught.value.details == {"email": raw}
    assert caught.value.message.startswith(f"'{raw}' is not a valid email address")


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


def test_user_type():
    user = User(user_id="u1", email="ada@example.com", name="Ada", created_at="2026-11-01T00:00:00Z")
    assert (user.is_borrower, user.is_lender) == (False, False)
    assert user.user_type == BORROWER_ONLY == "BORROWER_ONLY"
    assert User(**{**user.__dict__, "is_borrower": True}).user_type == BORROWER_ONLY
    assert User(**{**user.__dict__, "is_lender": True}).user_type == ACTIVE_LENDER == "ACTIVE_LENDER"
