"""API2 / user enumeration: a login cannot tell an unknown email from a wrong password, by
status, body, headers or time, and both paths run bcrypt. Failed logins are throttled per
email, so every test here keeps each email below the lockout threshold unless lockout is
what it examines.

Registration is the accepted, documented exception: POST /auth/register answers an email that
already has an account with 409 USER_EXISTS (the contract's `UserExists` response). A service
that lets anyone sign up with an email has to say when that email is taken, so this vector is
accepted by design; it is bounded by rate limiting at the edge, not here.
"""

import statistics
import time

from conftest import PASSWORD, Account, assert_error, unique_email
from security_support import bcrypt_calls, client, comparable  # noqa: F401 (fixtures)

WRONG = "not the right password"


def login(client, email: str, password: str = WRONG):
    return client.post("/auth/login", json={"email": email, "password": password})


def fresh(client, label: str = "real") -> Account:
    return Account(client, label.title(), unique_email(label))


def test_unknown_email_and_wrong_password_get_the_same_answer(client):
    unknown = login(client, unique_email("nobody"))
    wrong = login(client, fresh(client).email)
    assert_error(unknown, 401, "INVALID_CREDENTIALS")
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    assert comparable(unknown) == comparable(wrong)


def test_malformed_and_differently_cased_emails_get_the_same_answer(client):
    """The contract: a malformed email is answered like a wrong one."""
    reference = comparable(login(client, fresh(client).email))
    for email in ("not-an-email", "a@b", "@", "\n", fresh(client).email.upper(), " " + fresh(client).email):
        response = login(client, email)
        assert_error(response, 401, "INVALID_CREDENTIALS")
        assert comparable(response) == reference, email


def test_both_paths_run_bcrypt_and_take_similar_time(client, bcrypt_calls):
    """15 alternating attempts each; the medians must be within a factor of two. bcrypt's cost
    is 4 in tests, so what this guards is that the unknown-email path hashes too."""
    accounts = [fresh(client) for _ in range(5)]  # three failures each, below any lockout
    # Warm both paths (the dummy hash for unknown emails is computed once, on first use).
    login(client, unique_email("warmup"))
    login(client, fresh(client, "warmup").email)
    bcrypt_calls.clear()

    unknown_times, wrong_times = [], []
    for attempt in range(15):
        for times, email in (
            (unknown_times, unique_email("nobody")),
            (wrong_times, accounts[attempt % len(accounts)].email),
        ):
            started = time.perf_counter()
            response = login(client, email)
            times.append(time.perf_counter() - started)
            assert_error(response, 401, "INVALID_CREDENTIALS")

    assert [name for name, _ in bcrypt_calls] == ["checkpw"] * 30, bcrypt_calls
    ratio = statistics.median(unknown_times) / statistics.median(wrong_times)
    assert 0.5 <= ratio <= 2.0, (ratio, unknown_times, wrong_times)


def test_repeated_failures_treat_existing_and_unknown_emails_alike(client):
    """However failures are counted (here: a lockout after a few), an existing account and
    an unknown email keep getting the same answer, attempt after attempt."""
    account = fresh(client, "target")
    ghost = unique_email("ghost")
    answers = []
    for attempt in range(8):
        real, unknown = login(client, account.email), login(client, ghost)
        assert comparable(real) == comparable(unknown), attempt
        assert_error(
            real, real.status_code, {401: "INVALID_CREDENTIALS", 429: "TOO_MANY_ATTEMPTS"}.get(real.status_code)
        )
        answers.append(real.status_code)
    # Refused as wrong at first; once locked (if ever), locked for the rest of the run.
    assert answers[0] == 401 and set(answers) <= {401, 429} and answers == sorted(answers), answers


def test_registering_a_taken_email_is_409_and_reveals_nothing_else(client):
    """The documented enumeration vector (see the module docstring): the answer says the
    email is taken and nothing about the account behind it."""
    owner = Account(client, "Owner Name", unique_email("owner"))
    for email in (owner.email, owner.email.upper()):
        response = client.post("/auth/register", json={"name": "Someone", "email": email, "password": "another pass"})
        body = assert_error(response, 409, "USER_EXISTS")
        assert owner.user_id not in response.text and "Owner Name" not in response.text, body
        assert "token" not in body
    # The taken account is untouched: its owner still logs in with the original password.
    assert login(client, owner.email, PASSWORD).status_code == 200
    assert_error(login(client, owner.email, "another pass"), 401, "INVALID_CREDENTIALS")
