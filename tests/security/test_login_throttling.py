"""Brute-force protection on login: state in DynamoDB, the same for every email."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import PASSWORD, assert_error, unique_email
from service import context
from service.domain.errors import InvalidCredentials
from service.domain.throttling import TooManyAttempts
from service.store import Store
from service.usecases import accounts

LIMIT = 5


def login(api, email: str, password: str) -> httpx.Response:
    return api.post("/auth/login", json={"email": email, "password": password})


@pytest.mark.parametrize("registered", [True, False], ids=["account", "no-account"])
def test_five_failures_lock_the_email_whatever_the_password(api, register, registered):
    email = register("target").email if registered else unique_email("nobody")
    for _ in range(LIMIT):
        assert_error(login(api, email, "wrong password!"), 401, "INVALID_CREDENTIALS")

    for password in ("wrong password!", PASSWORD):
        refused = login(api, email, password)
        assert_error(refused, 429, "TOO_MANY_ATTEMPTS")
        assert 1 <= int(refused.headers["retry-after"]) <= 900
    # Other emails are not affected.
    assert login(api, register("bystander").email, PASSWORD).status_code == 200


def test_a_successful_login_clears_the_failures(api, register):
    user = register("typo")
    for _ in range(LIMIT - 1):
        assert login(api, user.email, "wrong password!").status_code == 401
    assert login(api, user.email, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        assert login(api, user.email, "wrong password!").status_code == 401
    assert login(api, user.email, PASSWORD).status_code == 200


def test_the_lock_is_in_the_store_not_in_the_process_and_expires(api, register, store):
    user = register("locked")
    for _ in range(LIMIT):
        login(api, user.email, "wrong password!")
    # Another process (here: a new store client) sees the same lock.
    config = context.settings()
    elsewhere = Store(config.tables, b"another process")
    with pytest.raises(TooManyAttempts):
        accounts.login(elsewhere, config, user.email, PASSWORD)
    lock = store.client.get_item(TableName=store.names.users,
                                 Key={"user_id": f"login-lock#{user.email}"})["Item"]
    assert int(lock["expires_at"]) > float(lock["locked_until"])  # TTL cleans it up later
    # Once the lockout has passed, the right password works again.
    later = float(lock["locked_until"]) + 1
    assert accounts.login(elsewhere, config, user.email, PASSWORD, now=later).user.email == user.email


def test_concurrent_failures_are_all_counted(base_url, register, store):
    user = register("swarm")
    throttle = context.settings().login_throttle
    first_window = throttle.window(time.time())
    barrier = threading.Barrier(10)

    def attempt(_):
        with httpx.Client(base_url=base_url, timeout=30) as client:
            barrier.wait()
            return client.post("/auth/login", json={"email": user.email, "password": "wrong password!"})

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(r.status_code for r in pool.map(attempt, range(10)))
    # Attempts that arrive after the lock is set are refused outright; none is lost.
    assert set(statuses) <= {401, 429} and statuses.count(401) >= LIMIT
    # Summed over the windows the run spanned (normally one).
    counted = sum(
        int(store.client.get_item(TableName=store.names.users,
                                  Key={"user_id": f"login-failures#{user.email}#{window}"})
            .get("Item", {}).get("failures", 0))
        for window in range(first_window, throttle.window(time.time()) + 1)
    )
    assert counted == statuses.count(401)
    with pytest.raises(TooManyAttempts):
        accounts.login(store, context.settings(), user.email, PASSWORD)


def test_wrong_password_below_the_limit_is_still_invalid_credentials(register, store):
    user = register("careful")
    with pytest.raises(InvalidCredentials):
        accounts.login(store, context.settings(), user.email, "wrong password!")
