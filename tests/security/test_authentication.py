"""API2 Broken authentication: only a token this service signed (HS256, its own key id, every
required claim, inside its validity window) for a user who still exists is accepted.

tests/api/test_authorization.py already runs the simplest bad tokens against every protected
operation; this suite goes through the JWT attack catalogue on one operation (the token check
is shared by all of them) and through the user's lifecycle.
"""

import hashlib
import json
import secrets
import socket
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.api import BackgroundServer

from conftest import PASSWORD, Account, assert_error, current_services, unique_email, write_count
from security_support import (
    as_bearer,
    b64url,
    client,  # noqa: F401 (fixture)
    good_claims,
    good_header,
    hand_signed,
    segment,
)

PROFILE = "/user/profile"
WRONG_SECRET = "an-attackers-secret-that-is-long-enough-for-hs256"


@pytest.fixture(scope="module")
def victim(client):
    """A real user whose id every forged token claims to be."""
    return Account(client, "Victim", unique_email("victim"))


@pytest.fixture(scope="module")
def attacker_rsa():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public_pem


def pyjwt_token(claims: dict, key=None, algorithm="HS256", **header) -> str:
    """A token PyJWT builds: the service's secret and key id unless told otherwise."""
    config = current_services().settings
    headers = {"kid": config.jwt_key_id, "typ": "JWT", **header}
    return jwt.encode(claims, config.jwt_secret if key is None else key, algorithm=algorithm, headers=headers)


def assert_refused(client, token: str) -> None:
    assert_error(client.get(PROFILE, headers=as_bearer(token)), 401, "INVALID_TOKEN")


def test_a_genuine_token_is_accepted(client, victim):
    """The baseline every refusal below is measured against: the same claims, correctly
    signed, are accepted."""
    response = client.get(PROFILE, headers=as_bearer(pyjwt_token(good_claims(victim.user_id))))
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == victim.user_id


# -- forged, confused and out-of-date tokens -----------------------------------------------


def _alg_none(spelling: str):
    def build(sub, _rsa):
        return hand_signed(good_header(alg=spelling), good_claims(sub), digest=None)

    return build


def _none_with_real_signature(sub, _rsa):
    """A genuine token whose header is swapped for alg none, the signature left in place."""
    genuine = pyjwt_token(good_claims(sub))
    _, payload, signature = genuine.split(".")
    return f"{segment(good_header(alg='none'))}.{payload}.{signature}"


def _rs256_attacker_key(sub, rsa_key):
    return pyjwt_token(good_claims(sub), key=rsa_key[0], algorithm="RS256")


def _hs256_with_public_pem(sub, rsa_key):
    """The HS/RS confusion: an HMAC keyed with the PEM of a public key the server might
    trust. PyJWT refuses to sign this, which is itself part of the defence, so it is
    built by hand."""
    return hand_signed(good_header(), good_claims(sub), key=rsa_key[1])


def _embedded_jwk(sub, rsa_key):
    """The attacker's public key embedded in the header, signed by its private half."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key[0].public_key()))
    return pyjwt_token(good_claims(sub), key=rsa_key[0], algorithm="RS256", jwk=jwk)


def _now():
    return int(time.time())


FORGED = {
    "alg-none": _alg_none("none"),
    "alg-None": _alg_none("None"),
    "alg-NONE": _alg_none("NONE"),
    "alg-nOnE": _alg_none("nOnE"),
    "alg-none-keeping-the-real-signature": _none_with_real_signature,
    "hs256-wrong-key": lambda sub, _: pyjwt_token(good_claims(sub), key=WRONG_SECRET),
    "hs384-right-key": lambda sub, _: hand_signed(good_header(alg="HS384"), good_claims(sub), digest=hashlib.sha384),
    "hs512-right-key": lambda sub, _: hand_signed(good_header(alg="HS512"), good_claims(sub), digest=hashlib.sha512),
    "rs256-attacker-key": _rs256_attacker_key,
    "hs256-keyed-with-public-pem": _hs256_with_public_pem,
    "rs256-with-embedded-jwk": _embedded_jwk,
    "expired": lambda sub, _: pyjwt_token(good_claims(sub, iat=_now() - 3600, nbf=_now() - 3600, exp=_now() - 1)),
    "nbf-in-the-future": lambda sub, _: pyjwt_token(good_claims(sub, nbf=_now() + 300)),
    "iat-in-the-future": lambda sub, _: pyjwt_token(good_claims(sub, iat=_now() + 300)),
    "wrong-iss": lambda sub, _: pyjwt_token(good_claims(sub, iss="https://issuer.example")),
    "wrong-aud": lambda sub, _: pyjwt_token(good_claims(sub, aud="another-api")),
    "aud-list-without-ours": lambda sub, _: pyjwt_token(good_claims(sub, aud=["another-api", "a-third-api"])),
    "missing-exp": lambda sub, _: pyjwt_token(good_claims(sub, exp=None)),
    "missing-iat": lambda sub, _: pyjwt_token(good_claims(sub, iat=None)),
    "missing-sub": lambda sub, _: pyjwt_token(good_claims(sub, sub=None)),
    "missing-iss": lambda sub, _: pyjwt_token(good_claims(sub, iss=None)),
    "missing-aud": lambda sub, _: pyjwt_token(good_claims(sub, aud=None)),
    "sub-not-a-string": lambda sub, _: pyjwt_token(good_claims(sub, sub=12345)),
    "typ-at+jwt": lambda sub, _: pyjwt_token(good_claims(sub), typ="at+jwt"),
    "typ-JWE": lambda sub, _: pyjwt_token(good_claims(sub), typ="JWE"),
    "unknown-kid": lambda sub, _: pyjwt_token(good_claims(sub), kid="v0"),
    "missing-kid": lambda sub, _: hand_signed(good_header(kid=None), good_claims(sub)),
    "kid-path-traversal": lambda sub, _: pyjwt_token(good_claims(sub), kid="../../etc/passwd"),
    # The classic follow-up to a kid that names a file: sign with that file's (empty) content.
    "kid-dev-null-empty-key": lambda sub, _: hand_signed(good_header(kid="/dev/null"), good_claims(sub), key=b""),
    "kid-sql-injection": lambda sub, _: pyjwt_token(good_claims(sub), kid="x' UNION SELECT 'secret' --"),
    "kid-not-a-string": lambda sub, _: hand_signed(good_header(kid=["v1"]), good_claims(sub)),
    # RFC 7515 4.1.11: a critical extension the recipient does not understand must be refused.
    "crit-unknown-extension": lambda sub, _: hand_signed(
        good_header(crit=["x-unknown"], **{"x-unknown": True}), good_claims(sub)
    ),
}


@pytest.mark.parametrize("case", list(FORGED), ids=str)
def test_forged_or_invalid_token_is_401(client, victim, attacker_rsa, case):
    assert_refused(client, FORGED[case](victim.user_id, attacker_rsa))


def test_tampered_payload_with_kept_signature_is_401(client, victim):
    """Another user's genuine token with `sub` rewritten to the victim's."""
    other = pyjwt_token(good_claims(str(uuid.uuid4())))
    header, _, signature = other.split(".")
    assert_refused(client, f"{header}.{segment(good_claims(victim.user_id))}.{signature}")


class HandClock:
    """A clock the test moves."""

    def __init__(self, now: float):
        self.at = now

    def now(self) -> float:
        return self.at


def test_token_works_until_its_exp_and_not_after(services, victim):
    """By the service's clock, in one app, which remembers the token once it has verified it."""
    from service.bootstrap import bootstrap
    from service.http.app import create_app

    now = time.time()
    clock, exp = HandClock(now), int(now) + 600
    token = pyjwt_token(good_claims(victim.user_id, iat=exp - 1200, nbf=exp - 1200, exp=exp))
    parts = {"store": services.store, "vault": services.vault, "mailer": services.mailer, "clock": clock}
    server = BackgroundServer(create_app(bootstrap(services.settings, **parts)))
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as api:
            assert api.get(PROFILE, headers=as_bearer(token)).status_code == 200
            clock.at = exp - 0.001
            assert api.get(PROFILE, headers=as_bearer(token)).status_code == 200
            clock.at = exp
            assert_refused(api, token)
    finally:
        server.stop()


# -- remote key references are never fetched -----------------------------------------------


@pytest.fixture
def trap():
    """A TCP listener nobody should ever connect to; yields its URL and a connection counter."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.3)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def connections() -> int:
        count = 0
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return count
            conn.close()
            count += 1

    # The trap itself works: a connection to it is counted.
    with socket.create_connection(listener.getsockname(), timeout=2):
        pass
    assert connections() == 1
    yield url, connections
    listener.close()


def _remote_key_headers(url: str) -> dict:
    return {
        "jku": {"jku": f"{url}/.well-known/jwks.json"},
        "x5u": {"x5u": f"{url}/cert.pem"},
        "x5c": {"x5c": [f"{url}/chain.pem"]},
    }


def test_jku_x5u_x5c_are_refused_with_a_foreign_key_and_never_fetched(client, victim, attacker_rsa, trap):
    url, connections = trap
    for _name, extra in _remote_key_headers(url).items():
        for token in (
            pyjwt_token(good_claims(victim.user_id), key=attacker_rsa[0], algorithm="RS256", **extra),
            pyjwt_token(good_claims(victim.user_id), key=WRONG_SECRET, **extra),
            hand_signed(good_header(**extra), good_claims(victim.user_id), key=attacker_rsa[1]),
        ):
            assert_refused(client, token)
    assert connections() == 0, "the server connected to a URL taken from a token header"


def test_jku_x5u_x5c_beside_the_real_key_are_ignored_and_never_fetched(client, victim, trap):
    """A correctly signed token that also names a remote key is accepted on the strength of
    the configured key alone: the header parameters are ignored, not followed."""
    url, connections = trap
    for name, extra in _remote_key_headers(url).items():
        response = client.get(PROFILE, headers=as_bearer(pyjwt_token(good_claims(victim.user_id), **extra)))
        assert response.status_code == 200, (name, response.text)
    assert connections() == 0, "the server connected to a URL taken from a token header"


# -- malformed Authorization headers -------------------------------------------------------


def _malformed(token: str) -> dict:
    return {
        "two-tokens": f"Bearer {token} {token}",
        "trailing-word": f"Bearer {token} junk",
        "trailing-characters": f"Bearer {token}junk",
        "trailing-segment": f"Bearer {token}.junk",
        "trailing-dot": f"Bearer {token}.",
        "leading-characters": f"Bearer x{token}",
        "comma-instead-of-space": f"Bearer,{token}",
        "other-scheme": f"Token {token}",
        "10-kb-random-token": "Bearer " + b64url(secrets.token_bytes(7680)),
        "genuine-token-plus-10-kb": f"Bearer {token}" + "A" * 10240,
        "10-kb-three-segments": "Bearer " + ".".join(["A" * 3413] * 3),
    }


MALFORMED = list(_malformed("t"))


@pytest.mark.parametrize("case", MALFORMED, ids=str)
def test_malformed_authorization_header_is_401(client, victim, case):
    response = client.get(PROFILE, headers={"Authorization": _malformed(victim.token)[case]})
    assert_error(response, 401, "INVALID_TOKEN")


def test_scheme_name_is_case_insensitive_but_the_token_is_still_checked(client, victim):
    """RFC 7235 2.1 makes the auth scheme case-insensitive, so `bearer <genuine token>` is a
    well-formed credential and is accepted; the token behind it is verified all the same."""
    accepted = client.get(PROFILE, headers={"Authorization": f"bearer {victim.token}"})
    assert accepted.status_code == 200, accepted.text
    forged = pyjwt_token(good_claims(victim.user_id), key=WRONG_SECRET)
    for scheme in ("bearer", "BEARER"):
        assert_error(client.get(PROFILE, headers={"Authorization": f"{scheme} {forged}"}), 401, "INVALID_TOKEN")


def test_padded_signature_is_401(client, victim):
    assert_error(client.get(PROFILE, headers={"Authorization": f"Bearer {victim.token}="}), 401, "INVALID_TOKEN")


# -- the user's lifecycle ------------------------------------------------------------------


def test_token_of_a_deleted_user_is_401_everywhere_and_does_not_follow_the_email(client, store):
    """The user item and its `email#` marker are deleted (the account is gone). The old token,
    still signed and unexpired, opens nothing, writes nothing, and does not become valid for
    a new account registered later with the same email."""
    gone = Account(client, "Gone", unique_email("gone"))
    friend = Account(client, "Friend", unique_email("friend"))
    own_loan = gone.create_loan([(friend.email, 100)], amount=100)["loan_id"]
    invited_to = friend.create_loan([(gone.email, 100)], amount=100)["loan_id"]

    store.db.client.delete_item(TableName=store.db.names.users, Key={"user_id": gone.user_id})
    store.db.client.delete_item(TableName=store.db.names.users, Key={"user_id": f"email#{gone.email}"})
    before = write_count(store)

    for path in (
        PROFILE,
        "/user/dashboard",
        "/loans/my-loans",
        "/lender/pending",
        f"/loans/{own_loan}",
        f"/loans/{invited_to}",
    ):
        assert_error(gone.get(path), 401, "INVALID_TOKEN")
    assert_error(gone.accept(invited_to), 401, "INVALID_TOKEN")
    assert_error(
        gone.post(
            "/loans",
            json={
                "amount": 100,
                "interest_rate": 5,
                "term": "12 months",
                "purpose": "After deletion",
                "lenders": [{"email": friend.email, "contribution_amount": 100}],
            },
        ),
        401,
        "INVALID_TOKEN",
    )
    assert write_count(store) == before
    assert_error(
        client.post("/auth/login", json={"email": gone.email, "password": PASSWORD}), 401, "INVALID_CREDENTIALS"
    )

    reborn = Account(client, "Reborn", gone.email)
    assert reborn.user_id != gone.user_id
    assert_error(gone.get(PROFILE), 401, "INVALID_TOKEN")
    assert reborn.get(PROFILE).json()["user_id"] == reborn.user_id
    assert_error(reborn.get(f"/loans/{own_loan}"), 403, "ACCESS_DENIED")


def test_tokens_are_bound_to_the_user_not_the_email(client):
    """A login returns a token for the account's id; nothing in the request picks the id."""
    user = Account(client, "Bound", unique_email("bound"))
    login = client.post("/auth/login", json={"email": user.email.upper(), "password": PASSWORD})
    assert login.status_code == 200, login.text
    claims = jwt.decode(login.json()["token"], options={"verify_signature": False})
    assert claims["sub"] == user.user_id
    header = jwt.get_unverified_header(login.json()["token"])
    assert (header["alg"], header["kid"]) == ("HS256", current_services().settings.jwt_key_id)
    assert claims["exp"] - claims["iat"] == login.json()["expires_in"]


def test_token_payload_carries_nothing_private(client):
    """The token payload is readable by anyone: it must carry no email, name or hash."""
    user = Account(client, "Readable Payload", unique_email("payload"))
    claims = jwt.decode(user.token, options={"verify_signature": False})
    # `ver` and `sid`: the user's token version and the session's id (service/domain/sessions.py).
    assert set(claims) <= {"sub", "iss", "aud", "iat", "nbf", "exp", "roles", "jti", "ver", "sid"}, claims
    text = json.dumps(claims).lower()
    assert user.email not in text and "readable" not in text and "$2b$" not in text
    assert hashlib.sha256(PASSWORD.encode()).hexdigest() not in text
