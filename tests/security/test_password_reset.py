"""Password reset (OWASP Forgot Password cheat sheet) and change, through HTTP: a forgotten
password request answers alike, in about the same time, for known and unknown emails; its
emailed token (only its hash stored) works once, for 30 minutes; a reset or a change ends the
other sessions and refuses every access token issued before it; a wrong current password
counts toward the login lockout."""

import statistics
import time
from unittest import mock

import pytest

from devstack import mailbox
from service.domain.password_reset import ANSWER_AFTER_SECONDS, RESET_TTL_SECONDS
from service.domain.secret_tokens import token_hash

from conftest import PASSWORD, Account, assert_error, bearer, unique_email, write_count
from security_support import client, comparable  # noqa: F401 (fixture)

NEW = "a brand new password"
PROFILE = "/user/profile"


def forgot(client, email: str):
    return client.post("/auth/forgot-password", json={"email": email})


def reset(client, token: str, password: str = NEW):
    return client.post("/auth/reset-password", json={"token": token, "new_password": password})


def login(client, email: str, password: str):
    return client.post("/auth/login", json={"email": email, "password": password})


def refresh(client, token: str):
    return client.post("/auth/refresh", json={"refresh_token": token})


def test_known_and_unknown_emails_get_the_same_answer_and_only_an_account_an_email(client):
    account = Account(client, "Known", unique_email("known"))
    nobody = unique_email("nobody")
    known, unknown = forgot(client, account.email), forgot(client, nobody)
    assert known.status_code == unknown.status_code == 202
    assert comparable(known) == comparable(unknown)
    assert known.json() == unknown.json()
    [email] = [e for e in mailbox.sent(account.email) if "reset-password" in e["text"]]
    assert email["from"] == mailbox.LOCAL_SENDER and email["subject"] == "Choose a new password"
    assert mailbox.sent(nobody) == []


def test_known_and_unknown_emails_take_about_the_same_time(client):
    """As tests/security/test_user_enumeration.py bounds logins: alternating requests, medians
    within a factor of two; and neither answers before the floor that hides the difference."""
    accounts = [Account(client, "Timed", unique_email("timed")) for _ in range(4)]  # two requests each
    known_times, unknown_times = [], []
    for attempt in range(8):
        for times, email in ((unknown_times, unique_email("nobody")), (known_times, accounts[attempt % 4].email)):
            started = time.perf_counter()
            assert forgot(client, email).status_code == 202
            times.append(time.perf_counter() - started)
    ratio = statistics.median(unknown_times) / statistics.median(known_times)
    assert 0.5 <= ratio <= 2.0, (ratio, unknown_times, known_times)
    assert min(known_times + unknown_times) >= ANSWER_AFTER_SECONDS


def test_the_token_works_once_and_sets_the_password(client, store):
    account = Account(client, "Once", unique_email("once"))
    assert forgot(client, account.email).status_code == 202
    token = mailbox.reset_token(account.email)
    users = store.db.table(store.db.names.users)
    assert users.get_item(Key={"user_id": f"password-reset#{token}"}).get("Item") is None
    assert users.get_item(Key={"user_id": f"password-reset#{token_hash(token)}"})["Item"]

    answer = reset(client, token)
    assert answer.status_code == 204 and answer.content == b""  # nobody is logged in
    before = write_count(store)
    assert_error(reset(client, token, "yet another password"), 400, "RESET_TOKEN_INVALID")
    assert write_count(store) == before
    assert_error(login(client, account.email, PASSWORD), 401, "INVALID_CREDENTIALS")
    assert login(client, account.email, NEW).status_code == 200


def test_a_reset_ends_every_session_and_refuses_earlier_access_tokens(client):
    account = Account(client, "Sessions", unique_email("sessions"))
    other = login(client, account.email, PASSWORD).json()
    forgot(client, account.email)
    assert reset(client, mailbox.reset_token(account.email)).status_code == 204

    for refresh_token in (account.refresh_token, other["refresh_token"]):
        assert_error(refresh(client, refresh_token), 401, "REFRESH_TOKEN_INVALID")
    for access in (account.token, other["token"]):
        assert_error(client.get(PROFILE, headers=bearer(access)), 401, "INVALID_TOKEN")
    fresh = login(client, account.email, NEW).json()
    assert client.get(PROFILE, headers=bearer(fresh["token"])).status_code == 200


def test_only_the_newest_unexpired_token_works(client, services):
    account = Account(client, "Newest", unique_email("newest"))
    forgot(client, account.email)
    first = mailbox.reset_token(account.email)
    forgot(client, account.email)
    second = mailbox.reset_token(account.email)
    assert first != second
    assert_error(reset(client, first), 400, "RESET_TOKEN_INVALID")
    later = services.clock.now() + RESET_TTL_SECONDS + 1
    with mock.patch.object(services.clock, "now", return_value=later):
        assert_error(reset(client, second), 400, "RESET_TOKEN_INVALID")
    assert reset(client, second).status_code == 204


def test_unknown_tokens_are_refused_and_write_nothing(client, store):
    before = write_count(store)
    assert_error(reset(client, "C" * 43), 400, "RESET_TOKEN_INVALID")
    assert write_count(store) == before


@pytest.mark.parametrize("exists", [True, False], ids=["account", "no-account"])
def test_requests_per_email_are_throttled_alike(client, exists):
    email = Account(client, "Throttled", unique_email("throttled")).email if exists else unique_email("ghost")
    answers = [forgot(client, email) for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    body = assert_error(answers[-1], 429, "TOO_MANY_ATTEMPTS")
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 900
    assert "reset" in body["message"]


# -- changing the password -----------------------------------------------------------------


def change(account_headers: dict, client, current: str, new: str = NEW):
    return client.put(
        "/user/password", headers=account_headers, json={"current_password": current, "new_password": new}
    )


def test_a_change_ends_the_other_sessions_and_keeps_the_callers(client):
    account = Account(client, "Changer", unique_email("changer"))
    other = login(client, account.email, PASSWORD).json()

    assert change(account.headers, client, PASSWORD).status_code == 204

    assert_error(refresh(client, other["refresh_token"]), 401, "REFRESH_TOKEN_INVALID")
    # Every access token issued before is refused, the caller's too; the caller refreshes.
    for access in (account.token, other["token"]):
        assert_error(client.get(PROFILE, headers=bearer(access)), 401, "INVALID_TOKEN")
    renewed = refresh(client, account.refresh_token)
    assert renewed.status_code == 200, renewed.text
    assert client.get(PROFILE, headers=bearer(renewed.json()["token"])).status_code == 200
    assert_error(login(client, account.email, PASSWORD), 401, "INVALID_CREDENTIALS")
    assert login(client, account.email, NEW).status_code == 200


def test_a_wrong_current_password_counts_toward_the_login_lockout(client):
    account = Account(client, "Guessed", unique_email("guessed"))
    for _ in range(5):
        assert_error(change(account.headers, client, "not the password"), 403, "INVALID_CURRENT_PASSWORD")
    assert_error(change(account.headers, client, PASSWORD), 429, "TOO_MANY_ATTEMPTS")
    assert_error(login(client, account.email, PASSWORD), 429, "TOO_MANY_ATTEMPTS")
    assert account.get(PROFILE).status_code == 200  # nothing was revoked
