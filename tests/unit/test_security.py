"""service.security: bcrypt passwords with a pre-hash, and HS256 bearer tokens with key ids."""

import base64
import json
import time

import jwt
import pytest

from service.config import Settings, TableNames
from service.domain.errors import InvalidToken
from service.security import (
    ALGORITHM,
    check_password,
    cursor_key,
    decode_token,
    hash_password,
    issue_token,
)

SECRET = "x" * 40
OTHER_SECRET = "y" * 40
ROUNDS = 4


USER_ID = "3f1c9a9e-5b1e-4c8e-9a57-0d6f2b1e7c11"


@pytest.fixture
def config() -> Settings:
    return Settings(tables=TableNames.with_prefix("t"), jwt_secret=SECRET, bcrypt_rounds=ROUNDS)


def claims(**overrides) -> dict:
    now = int(time.time())
    values = {
        "sub": USER_ID,
        "iss": "lending-marketplace",
        "aud": "lending-marketplace-api",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def sign(payload: dict, secret: str = SECRET, algorithm: str = "HS256", **header) -> str:
    return jwt.encode(payload, secret, algorithm=algorithm, headers={"kid": "v1", **header})


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def rejected(config: Settings, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        decode_token(config, token)
    assert caught.value.code == "INVALID_TOKEN"
    return caught.value


# -- passwords -----------------------------------------------------------------------------


def test_hash_and_check_round_trip():
    hashed = hash_password("correct horse battery staple", ROUNDS)
    assert isinstance(hashed, str)
    assert hashed.startswith("$2b$04$")  # bcrypt, at the cost asked for
    assert "correct horse" not in hashed
    assert check_password("correct horse battery staple", hashed, ROUNDS) is True
    assert check_password("correct horse battery stapl", hashed, ROUNDS) is False
    assert check_password("Correct horse battery staple", hashed, ROUNDS) is False
    assert check_password("", hashed, ROUNDS) is False


def test_hashes_are_salted():
    assert hash_password("same", ROUNDS) != hash_password("same", ROUNDS)


def test_non_ascii_password_round_trip():
    hashed = hash_password("pässwörd-密码-🔑", ROUNDS)
    assert check_password("pässwörd-密码-🔑", hashed, ROUNDS) is True
    assert check_password("passwörd-密码-🔑", hashed, ROUNDS) is False


def test_every_character_of_a_long_password_counts():
    prefix = "a" * 80  # already past bcrypt's 72-byte limit
    hashed = hash_password(prefix + "-tail-one", ROUNDS)
    assert check_password(prefix + "-tail-one", hashed, ROUNDS) is True
    assert check_password(prefix + "-tail-two", hashed, ROUNDS) is False
    assert check_password(prefix, hashed, ROUNDS) is False
    # 72 multi-byte characters are 216 bytes: a difference in the last one still counts.
    long_unicode = "é" * 71
    hashed = hash_password(long_unicode + "x", ROUNDS)
    assert check_password(long_unicode + "y", hashed, ROUNDS) is False


def test_a_nul_byte_does_not_truncate_the_password():
    hashed = hash_password("abc\x00def", ROUNDS)
    assert check_password("abc\x00def", hashed, ROUNDS) is True
    assert check_password("abc\x00xyz", hashed, ROUNDS) is False
    assert check_password("abc", hashed, ROUNDS) is False


@pytest.mark.parametrize("password_hash", [None, ""])
def test_check_password_without_a_hash_is_false(password_hash):
    assert check_password("no such user", password_hash, ROUNDS) is False
    assert check_password("anything", password_hash, ROUNDS) is False


# -- tokens: the happy path ----------------------------------------------------------------


def test_issue_and_decode_round_trip(config):
    before = int(time.time())
    token = issue_token(config, USER_ID, {"borrower": True, "lender": False})
    after = int(time.time())
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "v1"}
    decoded = decode_token(config, token)
    assert decoded["sub"] == USER_ID
    assert decoded["iss"] == "lending-marketplace"
    assert decoded["aud"] == "lending-marketplace-api"
    assert decoded["roles"] == ["borrower"]
    assert before <= decoded["iat"] <= after
    assert decoded["nbf"] == decoded["iat"]
    assert decoded["exp"] == decoded["iat"] + 3600
    assert ALGORITHM == "HS256"


def test_issued_token_respects_ttl_and_key_id():
    config = Settings(tables=TableNames.with_prefix("t"), jwt_secret=SECRET, jwt_key_id="k7",
                      token_ttl_seconds=120, bcrypt_rounds=ROUNDS)
    token = issue_token(config, USER_ID, {"borrower": True, "lender": True})
    assert jwt.get_unverified_header(token)["kid"] == "k7"
    decoded = decode_token(config, token)
    assert decoded["exp"] - decoded["iat"] == 120
    assert decoded["roles"] == ["borrower", "lender"]


def test_hand_signed_valid_token_is_accepted(config):
    assert decode_token(config, sign(claims()))["sub"] == USER_ID


# -- tokens: rejections --------------------------------------------------------------------


def test_expired_token(config):
    now = int(time.time())
    error = rejected(config, sign(claims(iat=now - 7200, nbf=now - 7200, exp=now - 60)))
    assert error.message == "The bearer token has expired."


def test_wrong_issuer(config):
    assert rejected(config, sign(claims(iss="someone-else"))).message == "The bearer token is not valid."


def test_wrong_audience(config):
    rejected(config, sign(claims(aud="another-api")))


def test_signed_with_another_secret(config):
    rejected(config, sign(claims(), secret=OTHER_SECRET))


def test_tampered_payload(config):
    header, _, signature = sign(claims()).split(".")
    forged = b64url(claims(sub="admin"))
    rejected(config, f"{header}.{forged}.{signature}")


def test_alg_none(config):
    token = b64url({"alg": "none", "typ": "JWT", "kid": "v1"}) + "." + b64url(claims()) + "."
    # PyJWT itself would read it (unverified); the service must not.
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == USER_ID
    rejected(config, token)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_hs512_token_with_the_right_secret_and_kid(config):
    token = sign(claims(), algorithm="HS512")
    assert jwt.get_unverified_header(token)["alg"] == "HS512"
    rejected(config, token)


def test_unknown_kid(config):
    rejected(config, sign(claims(), kid="v2"))


def test_missing_kid(config):
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert "kid" not in jwt.get_unverified_header(token)
    rejected(config, token)


def test_non_string_kid(config):
    token = b64url({"alg": "HS256", "typ": "JWT", "kid": ["v1"]}) + "." + b64url(claims()) + ".sig"
    rejected(config, token)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
def test_missing_required_claim(config, claim):
    rejected(config, sign(claims(**{claim: None})))


@pytest.mark.parametrize("sub", [123, None, [USER_ID]])
def test_non_string_subject(config, sub):
    payload = claims()
    payload["sub"] = sub
    rejected(config, sign(payload))


@pytest.mark.parametrize("typ", ["at+jwt", "JWS", "jwt"])
def test_wrong_typ_header(config, typ):
    rejected(config, sign(claims(), typ=typ))


def test_nbf_in_the_future(config):
    now = int(time.time())
    rejected(config, sign(claims(nbf=now + 600, exp=now + 1200)))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "...."])
def test_garbage(config, token):
    rejected(config, token)


# -- key rotation --------------------------------------------------------------------------


def test_previous_key_still_verifies_after_rotation():
    old = Settings(tables=TableNames.with_prefix("t"), jwt_secret=SECRET, jwt_key_id="v1",
                   bcrypt_rounds=ROUNDS)
    old_token = issue_token(old, USER_ID, {"borrower": True})
    rotated = Settings(tables=TableNames.with_prefix("t"), jwt_secret=OTHER_SECRET, jwt_key_id="v2",
                       jwt_previous_keys={"v1": SECRET}, bcrypt_rounds=ROUNDS)
    assert decode_token(rotated, old_token)["sub"] == USER_ID
    new_token = issue_token(rotated, USER_ID, {})
    assert jwt.get_unverified_header(new_token)["kid"] == "v2"
    assert decode_token(rotated, new_token)["roles"] == []
    # The old deployment does not know v2.
    rejected(old, new_token)
    # Once v1 is retired, its tokens stop working.
    retired = Settings(tables=TableNames.with_prefix("t"), jwt_secret=OTHER_SECRET, jwt_key_id="v2",
                       bcrypt_rounds=ROUNDS)
    rejected(retired, old_token)


def test_kid_binds_the_key():
    rotated = Settings(tables=TableNames.with_prefix("t"), jwt_secret=OTHER_SECRET, jwt_key_id="v2",
                       jwt_previous_keys={"v1": SECRET}, bcrypt_rounds=ROUNDS)
    # Signed with the old secret but claiming the new key id.
    rejected(rotated, sign(claims(), secret=SECRET, kid="v2"))


# -- cursor key ----------------------------------------------------------------------------


def test_cursor_key_is_derived_from_and_rotates_with_the_secret(config):
    key = cursor_key(config)
    assert isinstance(key, bytes) and len(key) == 32
    assert key == cursor_key(Settings(tables=TableNames.with_prefix("other"), jwt_secret=SECRET))
    assert key != cursor_key(Settings(tables=TableNames.with_prefix("t"), jwt_secret=OTHER_SECRET))
    assert SECRET.encode() not in key


@pytest.mark.parametrize("subject", ["", "not-a-user-id", "email#ada@example.com", "3F1C9A9E-5B1E-4C8E-9A57-0D6F2B1E7C11"])
def test_a_subject_that_is_not_a_user_id_is_refused(config, subject):
    rejected(config, sign(claims(sub=subject)))


@pytest.mark.parametrize("suffix", ["=", "==", " ", ".x"])
def test_a_token_has_one_spelling(config, suffix):
    token = sign(claims())
    decode_token(config, token)
    rejected(config, token + suffix)
