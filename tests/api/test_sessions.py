"""Short access tokens, long refresh tokens: rotation, reuse detection (with its grace for
refreshes that race), logout, and access tokens refused once their user revoked them.
Times move on the app's injected clock, never by sleeping."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import jwt
import pytest

from service.domain.secret_tokens import token_hash
from service.domain.sessions import REFRESH_TTL_SECONDS, REUSE_GRACE_SECONDS

from conftest import PASSWORD, assert_error, bearer, write_count

PROFILE = "/user/profile"


def refresh(api, token: str, **kwargs):
    return api.post("/auth/refresh", json={"refresh_token": token}, **kwargs)


def pair(response) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["token"], body["refresh_token"]


@pytest.fixture
def clock_at(services):
    """`with clock_at(seconds):` the app's clock `seconds` from the test's start (tokens are
    checked on it); `since=moment` counts them from `moment` instead."""
    start = services.clock.now()

    def at(seconds: float, since: float | None = None):
        return mock.patch.object(services.clock, "now", return_value=(start if since is None else since) + seconds)

    return at


def test_every_login_returns_a_short_access_token_and_a_refresh_token(api, register):
    user = register("pair")
    login = api.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    for body in (login.json(), {"token": user.token, "refresh_token": user.refresh_token, "expires_in": 900}):
        claims = jwt.decode(body["token"], options={"verify_signature": False})
        assert body["expires_in"] == claims["exp"] - claims["iat"] == 900  # TOKEN_TTL_SECONDS' default
        assert len(body["refresh_token"]) == 43
    assert login.json()["refresh_token"] != user.refresh_token


def test_a_refresh_spends_the_token_and_gives_a_working_pair(api, register, store):
    user = register("rotate")
    access, newer = pair(refresh(api, user.refresh_token))
    assert api.get(PROFILE, headers=bearer(access)).json()["user_id"] == user.user_id
    assert newer != user.refresh_token
    # Only hashes are stored.
    table = store.db.table(store.db.names.sessions)
    assert table.get_item(Key={"record_id": f"refresh#{user.refresh_token}"}).get("Item") is None
    spent = table.get_item(Key={"record_id": f"refresh#{token_hash(user.refresh_token)}"})["Item"]
    assert "spent_at" in spent
    _, newest = pair(refresh(api, newer))
    assert newest not in (newer, user.refresh_token)


def test_a_spent_token_presented_after_the_grace_revokes_its_whole_family(api, register, clock_at):
    user = register("reuse")
    _, second = pair(refresh(api, user.refresh_token))
    _, third = pair(refresh(api, second))
    other = api.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()["refresh_token"]

    with clock_at(REUSE_GRACE_SECONDS + 1):
        assert_error(refresh(api, user.refresh_token), 401, "REFRESH_TOKEN_REUSED")
        # Every descendant of that login is dead, the newest too; another login is not.
        assert_error(refresh(api, third), 401, "REFRESH_TOKEN_INVALID")
        assert_error(refresh(api, user.refresh_token), 401, "REFRESH_TOKEN_REUSED")
        pair(refresh(api, other))


def test_a_spent_token_within_the_grace_gets_another_pair(api, register, clock_at):
    user = register("grace")
    _, first = pair(refresh(api, user.refresh_token))
    with clock_at(REUSE_GRACE_SECONDS - 1):
        _, sibling = pair(refresh(api, user.refresh_token))
    assert sibling != first
    pair(refresh(api, first))
    pair(refresh(api, sibling))


def test_concurrent_refreshes_of_one_token_all_succeed_and_stay_one_family(base_url, register, clock_at):
    """Real concurrent requests: every one gets a distinct pair (none is taken for a reuse),
    and they all belong to the family a later reuse revokes."""
    import httpx

    user = register("race")
    racers = 6
    barrier = threading.Barrier(racers)

    def race(_):
        with httpx.Client(base_url=base_url, timeout=30) as client:
            barrier.wait()
            return refresh(client, user.refresh_token)

    with ThreadPoolExecutor(racers) as pool:
        responses = list(pool.map(race, range(racers)))
    pairs = [pair(response) for response in responses]
    assert len({refresh_token for _, refresh_token in pairs}) == racers

    # Past the grace after the last of the racers spent it, however long they took.
    after_race = time.time()
    with httpx.Client(base_url=base_url, timeout=30) as api, clock_at(REUSE_GRACE_SECONDS + 1, since=after_race):
        assert_error(refresh(api, user.refresh_token), 401, "REFRESH_TOKEN_REUSED")
        for _, refresh_token in pairs:
            assert_error(refresh(api, refresh_token), 401, "REFRESH_TOKEN_INVALID")


def test_a_refresh_token_lasts_thirty_days_and_each_refresh_renews_them(api, register, clock_at):
    unused, renewed = register("expiry"), register("renewed")
    with clock_at(REFRESH_TTL_SECONDS - 60):
        _, later = pair(refresh(api, renewed.refresh_token))
    with clock_at(REFRESH_TTL_SECONDS + 1):
        assert_error(refresh(api, unused.refresh_token), 401, "REFRESH_TOKEN_INVALID")
    with clock_at(2 * REFRESH_TTL_SECONDS - 61):
        pair(refresh(api, later))


def test_unknown_tokens_are_refused_and_write_nothing(api, store):
    before = write_count(store)
    assert_error(refresh(api, "A" * 43), 401, "REFRESH_TOKEN_INVALID")
    assert write_count(store) == before


def test_logout_ends_the_session_and_refuses_earlier_access_tokens(api, register):
    user = register("logout")
    phone = api.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()

    assert api.post("/auth/logout", json={"refresh_token": user.refresh_token}).status_code == 204

    assert_error(refresh(api, user.refresh_token), 401, "REFRESH_TOKEN_INVALID")
    assert_error(user.get(PROFILE), 401, "INVALID_TOKEN")
    assert_error(api.get(PROFILE, headers=bearer(phone["token"])), 401, "INVALID_TOKEN")
    # The other session goes on: its refresh token gives it a token that works.
    access, _ = pair(refresh(api, phone["refresh_token"]))
    assert api.get(PROFILE, headers=bearer(access)).status_code == 200
    # Logging out again, or with a token nobody issued, is answered alike.
    assert api.post("/auth/logout", json={"refresh_token": user.refresh_token}).status_code == 204
    assert api.post("/auth/logout", json={"refresh_token": "B" * 43}).status_code == 204


def test_a_retried_refresh_with_its_key_gets_the_same_pair(api, register):
    user = register("retry")
    key = {"Idempotency-Key": "refresh-retry-1"}
    first = refresh(api, user.refresh_token, headers=key)
    again = refresh(api, user.refresh_token, headers=key)
    assert pair(first) == pair(again)
    assert again.headers["Idempotent-Replayed"] == "true"
