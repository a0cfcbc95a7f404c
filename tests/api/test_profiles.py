"""Profile changes and the opt-in lenders' search, through HTTP: only lenders who opted in
are ever listed, by a case- and accent-insensitive name prefix, page by page, from Query
calls on the sparse index and never a Scan; opting out takes effect at once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import Account, assert_error, write_count

INDEX = "lender-search-index"


@pytest.fixture
def tag() -> str:
    """A word no other test's names contain, so each test sees only its own lenders."""
    return "t" + uuid.uuid4().hex[:10]


def opt_in(account: Account, **fields) -> dict:
    response = account.client.patch("/user/profile", headers=account.headers, json={"searchable": True, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def search(account: Account, q: str, **params) -> httpx.Response:
    return account.get("/lenders/search", params={"q": q, **params})


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
def dynamodb_calls(services):
    """Every DynamoDB request the app's store makes while the test runs: (operation, params)."""
    calls: list[tuple[str, dict]] = []

    def record(params, model, **_):
        calls.append((model.name, params))

    events = services.store.db.client.meta.events
    events.register("provide-client-params.dynamodb", record)
    yield calls
    events.unregister("provide-client-params.dynamodb", record)


def test_only_lenders_who_opted_in_are_found_ignoring_case_and_accents(register, tag, dynamodb_calls) -> None:
    caller = register("borrower")
    ada, adam, hidden = (register("lender") for _ in range(3))
    opt_in(ada, name=f"Ádá {tag} Lovelace")
    opt_in(adam, name=f"ADA {tag} Byron")
    rename = hidden.client.patch("/user/profile", headers=hidden.headers, json={"name": f"Ada {tag} Hidden"})
    assert rename.json()["searchable"] is False
    dynamodb_calls.clear()

    for q in (f"ada {tag}", f"  AdÁ   {tag.upper()} ", f"ada {tag} b"):
        response = search(caller, q)
        expected = [f"ADA {tag} Byron"] + ([f"Ádá {tag} Lovelace"] if not q.endswith(" b") else [])
        assert names(response) == expected, q
    assert response.json()["items"] == [{"user_id": adam.user_id, "name": f"ADA {tag} Byron", "email": adam.email}]

    operations = {name for name, _ in dynamodb_calls}
    assert "Scan" not in operations and operations <= {"GetItem", "Query", "BatchGetItem"}, operations
    queries = [params for name, params in dynamodb_calls if name == "Query"]
    assert len(queries) == 3 and all(params["IndexName"] == INDEX for params in queries)


def test_pages_follow_the_cursor_which_belongs_to_its_query(register, tag) -> None:
    caller = register("borrower")
    for letter in "abcde":
        opt_in(register("lender"), name=f"Page {tag} {letter}")
    seen, cursor, pages = [], None, 0
    while True:
        response = search(caller, f"page {tag}", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += names(response)
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Page {tag} {letter}" for letter in "abcde"] and pages == 3

    first = search(caller, f"page {tag}", limit=2).json()["next_cursor"]
    assert_error(search(caller, f"page {tag} c", cursor=first), 400, "INVALID_INPUT")
    assert_error(search(caller, f"page {tag}", cursor=first[:-2] + "AA"), 400, "INVALID_INPUT")


@pytest.mark.parametrize("q", ["a", " a ", "e\u0301", "\u0301\u0301", "  "], ids=repr)
def test_a_query_needs_two_characters(register, q) -> None:
    body = assert_error(search(register("borrower"), q), 400, "INVALID_INPUT")
    assert "'q'" in body["message"] or (body.get("details") or {}).get("field") == "q", body


def test_a_query_is_required(register) -> None:
    assert_error(register("borrower").get("/lenders/search"), 400, "INVALID_INPUT")


def test_only_verified_users_search_or_opt_in(register, store, tag) -> None:
    unverified = register("newcomer", verified=False)
    assert_error(search(unverified, "ada"), 403, "EMAIL_NOT_VERIFIED")
    before = write_count(store)
    refused = unverified.client.patch("/user/profile", headers=unverified.headers, json={"searchable": True})
    assert_error(refused, 403, "EMAIL_NOT_VERIFIED")
    assert write_count(store) == before
    assert unverified.get("/user/profile").json()["searchable"] is False


def test_opting_out_or_renaming_takes_effect_at_once(register, tag) -> None:
    caller, lender = register("borrower"), register("lender")
    profile = opt_in(lender, name=f"Grace {tag}")
    assert profile == {**lender.get("/user/profile").json(), "name": f"Grace {tag}", "searchable": True}
    assert names(search(caller, f"grace {tag}")) == [f"Grace {tag}"]

    renamed = lender.client.patch("/user/profile", headers=lender.headers, json={"name": f"Hopper {tag}"})
    assert renamed.json()["name"] == f"Hopper {tag}" and renamed.json()["searchable"] is True
    assert names(search(caller, f"grace {tag}")) == []
    assert names(search(caller, f"hopper {tag}")) == [f"Hopper {tag}"]

    out = lender.client.patch("/user/profile", headers=lender.headers, json={"searchable": False})
    assert out.status_code == 200 and out.json()["searchable"] is False
    assert names(search(caller, f"hopper {tag}")) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "other@example.com"}, {"name": "Ok", "is_lender": True}, {"searchable": "yes"}, {"name": "   "}],
    ids=["empty", "email", "unknown", "not-boolean", "blank-name"],
)
def test_bad_profile_changes_are_refused_and_write_nothing(register, store, body) -> None:
    user = register("user")
    before = write_count(store)
    response = user.client.patch("/user/profile", headers=user.headers, json=body)
    assert_error(response, 400, "INVALID_INPUT")
    assert write_count(store) == before
    assert user.get("/user/profile").json() == user.user | {"searchable": False}


def test_concurrent_changes_lose_nothing_and_the_index_agrees(base_url, register, tag) -> None:
    """Renames and opt-ins/outs race; each decides on what it read (a change that keeps losing
    gives up with 503 and writes nothing), so the item ends with a value some answered change
    wrote, and the index lists the user exactly when the item says so."""
    caller, lender = register("borrower"), register("lender")
    bodies = [{"name": f"Race {tag} {i}"} for i in range(4)] + [{"searchable": i % 2 == 0} for i in range(4)]
    barrier = threading.Barrier(len(bodies))

    def patch(body: dict) -> int:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/health")
            barrier.wait()
            return client.patch("/user/profile", headers=lender.headers, json=body).status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        statuses = list(pool.map(patch, bodies))
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses
    landed = [body for body, status in zip(bodies, statuses, strict=True) if status == 200]
    profile = lender.get("/user/profile").json()
    assert profile["name"] in [b["name"] for b in landed if "name" in b] + ["Lender"]
    assert profile["searchable"] in [b["searchable"] for b in landed if "searchable" in b] + [False]
    assert names(search(caller, f"race {tag}")) == ([profile["name"]] if profile["searchable"] else [])
