"""service.store.cursors: signed, opaque page cursors scoped to one query."""

import base64
import json
import re
from decimal import Decimal

import pytest

from service.domain.errors import InvalidInput
from service.store.cursors import CursorCodec

KEY = b"k" * 32
LAST_KEY = {"loan_id": "loan-1", "borrower_id": "user-1", "created_at": "2026-11-22T10:15:30Z"}
SCOPE = "borrower-loans:user-1"
URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")  # the contract's cursor pattern


@pytest.fixture
def codec() -> CursorCodec:
    return CursorCodec(KEY)


def invalid(codec: CursorCodec, cursor: str, scope: str = SCOPE) -> None:
    with pytest.raises(InvalidInput) as caught:
        codec.decode(cursor, scope)
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.details == {"field": "cursor"}


def test_round_trip(codec):
    cursor = codec.encode(LAST_KEY, SCOPE)
    assert isinstance(cursor, str)
    assert codec.decode(cursor, SCOPE) == LAST_KEY


def test_round_trip_of_unicode_keys(codec):
    last_key = {"email": "ünïcode@example.com", "n": 3}
    assert codec.decode(codec.encode(last_key, SCOPE), SCOPE) == last_key


def test_encoding_is_deterministic_and_independent_of_key_order(codec):
    reordered = dict(reversed(list(LAST_KEY.items())))
    assert codec.encode(reordered, SCOPE) == codec.encode(LAST_KEY, SCOPE)


@pytest.mark.parametrize("last_key", [None, {}])
def test_no_last_key_means_no_cursor(codec, last_key):
    assert codec.encode(last_key, SCOPE) is None


def test_no_cursor_means_first_page(codec):
    assert codec.decode(None, SCOPE) is None


def test_cursor_is_url_safe_without_padding(codec):
    for size in range(1, 40):
        cursor = codec.encode({"k": "x" * size, "other": "?>~" * size}, SCOPE)
        assert URL_SAFE.match(cursor), cursor
        assert len(cursor) <= 2048


def test_cursor_is_opaque_but_signed(codec):
    cursor = codec.encode(LAST_KEY, SCOPE)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert json.loads(raw[16:]) == LAST_KEY  # payload after a 16-byte MAC


def test_cursor_for_another_scope(codec):
    cursor = codec.encode(LAST_KEY, SCOPE)
    invalid(codec, cursor, "borrower-loans:user-2")
    invalid(codec, cursor, "lender-pending:user-1")


def test_cursor_from_another_key(codec):
    invalid(codec, CursorCodec(b"z" * 32).encode(LAST_KEY, SCOPE))


def test_tampered_payload(codec):
    cursor = codec.encode(LAST_KEY, SCOPE)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    forged_payload = json.dumps({**LAST_KEY, "borrower_id": "user-2"}, sort_keys=True, separators=(",", ":")).encode()
    forged = base64.urlsafe_b64encode(raw[:16] + forged_payload).rstrip(b"=").decode()
    invalid(codec, forged)


def test_every_single_character_change_is_refused(codec):
    cursor = codec.encode(LAST_KEY, SCOPE)
    for index in range(len(cursor) - 1):  # the last character may carry only padding bits
        replacement = "A" if cursor[index] != "A" else "B"
        invalid(codec, cursor[:index] + replacement + cursor[index + 1 :])


@pytest.mark.parametrize(
    "cursor", ["", "garbage", "not a cursor!", "é", "%%%%", "a", "abcde", "====", "eyJsb2FuX2lkIjoibG9hbi0xIn0"]
)
def test_garbage(codec, cursor):
    invalid(codec, cursor)


def test_wrong_padding_and_truncation(codec):
    cursor = codec.encode(LAST_KEY, SCOPE)
    for cut in range(1, 5):
        invalid(codec, cursor[:-cut])
    invalid(codec, cursor + "A")
    # A length of 4n+1 can never be base64.
    invalid(codec, "A" * 21)


def test_a_valid_mac_over_non_json_is_refused(codec):
    payload = b"\xff not json"
    token = base64.urlsafe_b64encode(codec._mac(SCOPE, payload) + payload).rstrip(b"=").decode()
    invalid(codec, token)


def test_decimal_in_last_key_is_not_json():
    # boto3's resource returns numbers as Decimal; every key the store pages on is a string.
    with pytest.raises(TypeError):
        CursorCodec(KEY).encode({"n": Decimal("1")}, SCOPE)
