"""service.security: bcrypt passwords with a pre-hash, and HS256 bearer tokens with key ids."""

import base64
import json
import time

import jwt
import pytest

from service.config import Settings, TableNames
from service.domain.errors import InvalidToken
from service.domain.users import User
from service.security.passwords import BcryptPasswords
from service.security.tokens import ALGORITHM, JwtTokens, cursor_key

SECRET = "x" * 40
OTHER_SECRET = "y" * 40
ROUNDS = 4
PASSWORDS = BcryptPasswords(ROUNDS)


USER_ID = "3f1c9a9e-5b1e-4c8e-9a57-0d6f2b1e7c11"
SESSION_ID = "9b2f6c1e-0d4a-4e7b-8c3f-5a1d2e3f4a5b"


@pytest.fixture
def config() -> Settings:
    return Settings(tables=TableNames.with_prefix("t"), jwt_secret=SECRET, bcrypt_rounds=ROUNDS)


def user_with(roles: dict) -> User:
    return User(
        user_id=USER_ID,
        email="ada@example.com",
        name="Ada",
        created_at="2026-11-01T00:00:00Z",
        is_borrower=roles.get("borrower", False),
        is_lender=roles.get("lender", False),
    )


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
    return rejected_by(JwtTokens(config), token)


def rejected_by(tokens: JwtTokens, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        tokens.verify(token)
    assert caught.value.code == "INVALID_TOKEN"
    return caught.value


# -- passwords -----------------------------------------------------------------------------


def test_hash_and_check_round_trip():
    hashed = PASSWORDS.hash("correct horse battery staple")
    assert isinstance(hashed, str)
    assert hashed.startswith("$2b$04$")  # bcrypt, at the cost asked for
    assert "correct horse" not in hashed
    assert PASSWORDS.check("correct horse battery staple", hashed) is True
    assert PASSWORDS.check("correct horse battery stapl", hashed) is False
    assert PASSWORDS.check("Correct horse battery staple", hashed) is False
    assert PASSWORDS.check("", hashed) is False


def test_hashes_are_salted():
    assert PASSWORDS.hash("same") != PASSWORDS.hash("same")


def test_non_ascii_password_round_trip():
    hashed = PASSWORDS.hash("pässwörd-密码-🔑")
    assert PASSWORDS.check("pässwörd-密码-🔑", hashed) is True
    assert PASSWORDS.check("passwörd-密码-🔑", hashed) is False


def test_every_character_of_a_long_password_counts():
    prefix = "a" * 80  # already past bcrypt's 72-byte limit
    hashed = PASSWORDS.hash(prefix + "-tail-one")
    assert PASSWORDS.check(prefix + "-tail-one", hashed) is True
    assert PASSWORDS.check(prefix + "-tail-two", hashed) is False
    assert PASSWORDS.check(prefix, hashed) is False
    # 72 multi-byte characters are 216 bytes: a difference in the last one still counts.
    long_unicode = "é" * 71
    hashed = PASSWORDS.hash(long_unicode + "x")
    assert PASSWORDS.check(long_unicode + "y", hashed) is False


def test_a_nul_byte_does_not_truncate_the_password():
    hashed = PASSWORDS.hash("abc\x00def")
    assert PASSWORDS.check("abc\x00def", hashed) is True
    assert PASSWORDS.check("abc\x00xyz", hashed) is False
    assert PASSWORDS.check("abc", hashed) is False


@pytest.mark.parametrize("password_hash", [None, ""])
def test_check_password_without_a_hash_is_false(password_hash):
    assert PASSWORDS.check("no such user", password_hash) is False
    assert PASSWORDS.check("anything", password_hash) is False


# -- tokens: the happy path ----------------------------------------------------------------


def test_issue_and_decode_round_trip(config):
    before = int(time.time())
    token = JwtTokens(config).issue(user_with({"borrower": True, "lender": False}), time.time(), SESSION_ID)
    after = int(time.time())
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "v1"}
    decoded = JwtTokens(config).verify(token)
    assert decoded["sub"] == USER_ID
    assert decoded["iss"] == "lending-marketplace"
    assert decoded["aud"] == "lending-marketplace-api"
    assert decoded["roles"] == ["borrower"]
    assert before <= decoded["iat"] <= after
    assert decoded["nbf"] == decoded["iat"]
    assert decoded["exp"] == decoded["iat"] + 900
    assert (decoded["ver"], decoded["sid"]) == (0, SESSION_ID)
    assert ALGORITHM == "HS256"


def test_issued_token_respects_ttl_and_key_id():
    config = Settings(
        tables=TableNames.with_prefix("t"),
        jwt_secret=SECRET,
        jwt_key_id="k7",
        token_ttl_seconds=120,
        bcrypt_rounds=ROUNDS,
    )
    token = JwtTokens(config).issue(user_with({"borrower": True, "lender": True}), time.time(), SESSION_ID)
    assert jwt.get_unverified_header(token)["kid"] == "k7"
    decoded = JwtTokens(config).verify(token)
    assert decoded["exp"] - decoded["iat"] == 120
    assert decoded["roles"] == ["borrower", "lender"]


def test_hand_signed_valid_token_is_accepted(config):
    assert JwtTokens(config).verify(sign(claims()))["sub"] == USER_ID


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
    old = Settings(tables=TableNames.with_prefix("t"), jwt_secret=SECRET, jwt_key_id="v1", bcrypt_rounds=ROUNDS)
    old_token = JwtTokens(old).issue(user_with({"borrower": True}), time.time(), SESSION_ID)
    rotated = Settings(
        tables=TableNames.with_prefix("t"),
        jwt_secret=OTHER_SECRET,
        jwt_key_id="v2",
        jwt_previous_keys={"v1": SECRET},
        bcrypt_rounds=ROUNDS,
    )
    assert JwtTokens(rotated).verify(old_token)["sub"] == USER_ID
    new_token = JwtTokens(rotated).issue(user_with({}), time.time(), SESSION_ID)
    assert jwt.get_unverified_header(new_token)["kid"] == "v2"
    assert JwtTokens(rotated).verify(new_token)["roles"] == []
    # The old deployment does not know v2.
    rejected(old, new_token)
    # Once v1 is retired, its tokens stop working.
    retired = Settings(
        tables=TableNames.with_prefix("t"), jwt_secret=OTHER_SECRET, jwt_key_id="v2", bcrypt_rounds=ROUNDS
    )
    rejected(retired, old_token)


def test_kid_binds_the_key():
    rotated = Settings(
        tables=TableNames.with_prefix("t"),
        jwt_secret=OTHER_SECRET,
        jwt_key_id="v2",
        jwt_previous_keys={"v1": SECRET},
        bcrypt_rounds=ROUNDS,
    )
    # Signed with the old secret but claiming the new key id.
    rejected(rotated, sign(claims(), secret=SECRET, kid="v2"))


# -- cursor key ----------------------------------------------------------------------------


def test_cursor_key_is_derived_from_and_rotates_with_the_secret(config):
    key = cursor_key(config)
    assert isinstance(key, bytes) and len(key) == 32
    assert key == cursor_key(Settings(tables=TableNames.with_prefix("other"), jwt_secret=SECRET))
    assert key != cursor_key(Settings(tables=TableNames.with_prefix("t"), jwt_secret=OTHER_SECRET))
    assert SECRET.encode() not in key


@pytest.mark.parametrize(
    "subject", ["", "not-a-user-id", "email#ada@example.com", "3F1C9A9E-5B1E-4C8E-9A57-0D6F2B1E7C11"]
)
def test_a_subject_that_is_not_a_user_id_is_refused(config, subject):
    rejected(config, sign(claims(sub=subject)))


@pytest.mark.parametrize("suffix", ["=", "==", " ", ".x"])
def test_a_token_has_one_spelling(config, suffix):
    token = sign(claims())
    JwtTokens(config).verify(token)
    rejected(config, token + suffix)


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", ["soon", True, [1]])
def test_times_that_are_not_numbers(config, claim, value):
    rejected(config, sign(claims(**{claim: value})))


def test_iat_in_the_future(config):
    now = int(time.time())
    rejected(config, sign(claims(iat=now + 600, nbf=now, exp=now + 1200)))


class Clock:
    def __init__(self, now: float):
        self.at = now

    def now(self) -> float:
        return self.at


def test_times_are_checked_on_the_injected_clock(config):
    """The clock that issued a token decides when it expires, not the machine's."""
    now = time.time()
    token = JwtTokens(config).issue(user_with({"borrower": True}), now + 7200, SESSION_ID)  # two hours from now
    assert JwtTokens(config, Clock(now + 7201)).verify(token)["sub"] == USER_ID
    assert rejected_by(JwtTokens(config, Clock(now)), token).message == "The bearer token is not valid."
    expired = rejected_by(JwtTokens(config, Clock(now + 7200 + config.token_ttl_seconds)), token)
    assert expired.message == "The bearer token has expired."


def test_a_verified_token_is_verified_once_and_its_times_checked_on_every_use(config, monkeypatch):
    """A remembered token is still refused once the injected clock passes its `exp` (or is
    before its `iat`), though the machine's clock says it is valid."""
    now = time.time()
    clock = Clock(now)
    tokens, token = JwtTokens(config, clock), JwtTokens(config).issue(user_with({"borrower": True}), now, SESSION_ID)
    decoded, decode = [], jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kwargs: decoded.append(1) or decode(*args, **kwargs))
    first = tokens.verify(token)
    first["sub"] = "changed by a caller"
    assert tokens.verify(token)["sub"] == USER_ID and len(decoded) == 1
    # Another spelling of the same claims is verified on its own, and refused.
    assert rejected_by(tokens, token + "A").message == "The bearer token is not valid."
    clock.at = now + config.token_ttl_seconds
    assert rejected_by(tokens, token).message == "The bearer token has expired."
    clock.at = now - 60
    assert rejected_by(tokens, token).message == "The bearer token is not valid."
    clock.at = now + 1
    assert tokens.verify(token)["sub"] == USER_ID and len(decoded) == 2  # the refused spelling, and once
