"""Brute-force protection on login: every attempt is counted in DynamoDB before its password
is checked, so no burst of parallel guesses gets more password checks than the limit; the
same for every email, registered or not.

Finding 2 of the integrity review: the lock was read before bcrypt and the failure counted
after it, so 30 parallel logins were all checked and the right password among them got in.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from service.bootstrap import bootstrap
from service.domain.errors import InvalidCredentials
from service.domain.throttling import TooManyAttempts
from service.store import DynamoStore

from conftest import PASSWORD, ShiftedClock, assert_error, unique_email
from security_support import bcrypt_calls  # noqa: F401 (fixture)

LIMIT = 5
BURST = 30


def login(api, email: str, password: str) -> httpx.Response:
    return api.post("/auth/login", json={"email": email, "password": password})


def burst(base_url: str, email: str, passwords: list[str]) -> list[httpx.Response]:
    """One login per password, all released at once, each on its own connection."""
    barrier = threading.Barrier(len(passwords))

    def attempt(password: str) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            barrier.wait()
            return client.post("/auth/login", json={"email": email, "password": password})

    with ThreadPoolExecutor(max_workers=len(passwords)) as pool:
        return list(pool.map(attempt, passwords))


def checks(bcrypt_calls) -> int:
    return sum(1 for name, _ in bcrypt_calls if name == "checkpw")


@pytest.mark.parametrize("registered", [True, False], ids=["account", "no-account"])
def test_a_burst_of_guesses_gets_at_most_the_limit_of_password_checks(
    base_url, api, register, bcrypt_calls, registered
):
    email = register("target").email if registered else unique_email("nobody")
    bcrypt_calls.clear()
    responses = burst(base_url, email, ["wrong password!"] * BURST)
    statuses = [r.status_code for r in responses]
    assert checks(bcrypt_calls) <= LIMIT
    assert statuses.count(401) == checks(bcrypt_calls) and statuses.count(429) == BURST - statuses.count(401)
    for refused in (r for r in responses if r.status_code == 429):
        assert_error(refused, 429, "TOO_MANY_ATTEMPTS")
        assert 1 <= int(refused.headers["retry-after"]) <= 900
    # The right password after the limit is refused too, without a password check.
    bcrypt_calls.clear()
    assert_error(login(api, email, PASSWORD), 429, "TOO_MANY_ATTEMPTS")
    assert checks(bcrypt_calls) == 0


def test_the_right_password_inside_a_burst_gets_no_extra_guesses(base_url, register, bcrypt_calls):
    """The right password may get in if it arrives before the limit; a success gives its own
    attempt back (a user who logs in often is never locked out), but the wrong guesses around
    it never get more than the limit of checks."""
    user = register("hidden")
    bcrypt_calls.clear()
    passwords = ["wrong password!"] * (BURST - 1) + [PASSWORD]
    statuses = [r.status_code for r in burst(base_url, user.email, passwords)]
    assert statuses.count(401) <= LIMIT and statuses.count(200) <= 1
    assert statuses.count(401) + statuses.count(200) == checks(bcrypt_calls)
    assert set(statuses) <= {200, 401, 429}


def test_five_failures_lock_the_email_whatever_the_password(api, register):
    email = register("target").email
    for _ in range(LIMIT):
        assert_error(login(api, email, "wrong password!"), 401, "INVALID_CREDENTIALS")
    for password in ("wrong password!", PASSWORD):
        refused = login(api, email, password)
        assert_error(refused, 429, "TOO_MANY_ATTEMPTS")
        assert 1 <= int(refused.headers["retry-after"]) <= 900
    # Other emails are not affected.
    assert login(api, register("bystander").email, PASSWORD).status_code == 200


def test_successful_logins_give_their_attempts_back(api, register):
    """A user who logs in often is never locked out; the failures in between still count."""
    user = register("regular")
    for _ in range(3 * LIMIT):
        assert login(api, user.email, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert login(api, user.email, "wrong password!").status_code == 401
    assert login(api, user.email, PASSWORD).status_code == 200
    assert login(api, user.email, "wrong password!").status_code == 401  # the fifth failure
    assert_error(login(api, user.email, PASSWORD), 429, "TOO_MANY_ATTEMPTS")


def test_the_lock_is_in_the_store_not_in_the_process_and_expires(api, register, store, services):
    user = register("locked")
    for _ in range(LIMIT):
        login(api, user.email, "wrong password!")
    # Another process (here: a new store client) sees the same lock.
    config = services.settings
    elsewhere = DynamoStore(config.tables, b"another process")
    with pytest.raises(TooManyAttempts):
        bootstrap(config, store=elsewhere).accounts.login(user.email, PASSWORD)
    guard = store.db.client.get_item(TableName=store.db.names.users, Key={"user_id": f"login-guard#{user.email}"})[
        "Item"
    ]
    assert int(guard["expires_at"]) > float(guard["window_ends"])  # TTL cleans it up later
    # Once the lockout has passed, the right password works again (an injected clock).
    later = bootstrap(config, store=elsewhere, clock=ShiftedClock(float(guard["window_ends"]) + 1 - time.time()))
    assert later.accounts.login(user.email, PASSWORD).user.email == user.email


def test_wrong_password_below_the_limit_is_still_invalid_credentials(register, services):
    user = register("careful")
    with pytest.raises(InvalidCredentials):
        services.accounts.login(user.email, "wrong password!")
