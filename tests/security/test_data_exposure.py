"""API3 Excessive data exposure: every JSON body of a whole journey, successes and errors
alike, is walked for what must never leave the server (password hashes, passwords, full bank
numbers) and for other users' emails and ids beyond what the contract grants: the borrower
sees every invitee; a lender sees the loan and only their own participation.
"""

import re
from dataclasses import dataclass, field

import httpx
import pytest

from conftest import ACH, PASSWORD, Account, assert_error, unique_email
from security_support import client, walk  # noqa: F401

HASH = re.compile(r"\$2[abxy]?\$\d{2}\$")
USER_KEYS = {"user_id", "name", "email", "is_borrower", "is_lender", "email_verified", "searchable", "created_at"}

FIRST_ACH = {**ACH, "account_number": "48151623421", "special_instructions": "Wire ref 7781"}
SECOND_ACH = {**ACH, "routing_number": "021000021", "account_number": "99887766554433"}
FULL_NUMBERS = (
    FIRST_ACH["account_number"],
    FIRST_ACH["routing_number"],
    SECOND_ACH["account_number"],
    SECOND_ACH["routing_number"],
)


@dataclass
class Seen:
    """Every response one party received, with what that party may learn of others."""

    emails_allowed: set = field(default_factory=set)
    ids_allowed: set = field(default_factory=set)
    responses: list = field(default_factory=list)


@pytest.fixture(scope="module")
def journey(client):
    """Register, log in, create, read, list, accept (badly and well), read again, and fail in
    the usual ways: every response kept, by who received it."""
    parties: dict[str, Seen] = {"anonymous": Seen()}

    def keep(who: str, response: httpx.Response, status: int, code: str | None = None) -> httpx.Response:
        if code:
            assert_error(response, status, code)
        assert response.status_code == status, (who, response.request.url, response.text)
        parties[who].responses.append(response)
        return response

    def register(label: str, email: str | None = None) -> Account:
        """Registers through the shared Account helper, keeping its registration response."""
        grabbed: list[httpx.Response] = []
        client.event_hooks = {"response": [grabbed.append]}
        try:
            account = Account(client, label.title(), email or unique_email(label))
        finally:
            client.event_hooks = {"response": []}
        parties[label] = Seen({account.email}, {account.user_id}, [grabbed[0]])
        assert grabbed[0].status_code == 201
        return account

    borrower, first, second, stranger = (register(n) for n in ("borrower", "first", "second", "stranger"))
    newcomer_email = unique_email("newcomer")

    keep("borrower", client.post("/auth/login", json={"email": borrower.email, "password": PASSWORD}), 200)
    keep("first", client.post("/auth/login", json={"email": first.email, "password": PASSWORD}), 200)
    created = keep(
        "borrower",
        borrower.post(
            "/loans",
            json={
                "amount": 1000,
                "interest_rate": 6.5,
                "term": "12 months",
                "purpose": "Exposure",
                "lenders": [
                    {"email": e, "contribution_amount": 400} for e in (first.email, second.email, newcomer_email)
                ],
            },
        ),
        201,
    ).json()
    loan_id = created["loan_id"]
    # The contract grants the borrower every invitee; lenders learn the borrower's id and name.
    parties["borrower"].emails_allowed |= {first.email, second.email, newcomer_email}
    parties["borrower"].ids_allowed |= {first.user_id, second.user_id}
    for lender in ("first", "second"):
        parties[lender].ids_allowed.add(borrower.user_id)

    for who, account in (("first", first), ("second", second)):
        keep(who, account.get(f"/loans/{loan_id}"), 200)
        keep(who, account.get("/lender/pending"), 200)
    # A refused acceptance that carries real numbers must not echo them.
    keep(
        "first",
        first.put(f"/lender/accept/{loan_id}", json={**FIRST_ACH, "routing_number": "011000016"}),
        400,
        "INVALID_INPUT",
    )
    keep(
        "first",
        first.put(f"/lender/accept/{loan_id}", json={**FIRST_ACH, "account_type": "brokerage"}),
        400,
        "INVALID_INPUT",
    )
    keep("first", first.put(f"/lender/accept/{loan_id}", json=FIRST_ACH), 200)
    keep("first", first.put(f"/lender/accept/{loan_id}", json=FIRST_ACH), 409, "ALREADY_ACCEPTED")
    keep("second", second.put(f"/lender/accept/{loan_id}", json=SECOND_ACH), 200)

    newcomer = register("newcomer", newcomer_email)
    parties["newcomer"].ids_allowed.add(borrower.user_id)
    parties["borrower"].ids_allowed.add(newcomer.user_id)
    keep("newcomer", client.post("/auth/login", json={"email": newcomer_email, "password": PASSWORD}), 200)
    keep("newcomer", newcomer.put(f"/lender/accept/{loan_id}", json=FIRST_ACH), 200)

    keep("stranger", stranger.get(f"/loans/{loan_id}"), 403, "ACCESS_DENIED")
    keep("stranger", stranger.put(f"/lender/accept/{loan_id}", json=FIRST_ACH), 403, "ACCESS_DENIED")
    keep(
        "stranger",
        stranger.post(
            "/loans",
            json={
                "amount": 100,
                "interest_rate": 5,
                "term": "12 months",
                "purpose": "Self",
                "lenders": [{"email": stranger.email, "contribution_amount": 100}],
            },
        ),
        400,
        "INVALID_INPUT",
    )

    for who, account in (
        ("borrower", borrower),
        ("first", first),
        ("second", second),
        ("newcomer", newcomer),
        ("stranger", stranger),
    ):
        for path in (f"/loans/{loan_id}", "/loans/my-loans", "/lender/pending", "/user/profile", "/user/dashboard"):
            response = account.get(path)
            expected = 403 if (who == "stranger" and path.startswith("/loans/") and loan_id in path) else 200
            keep(who, response, expected)

    keep(
        "anonymous",
        client.post("/auth/login", json={"email": first.email, "password": "wrong password"}),
        401,
        "INVALID_CREDENTIALS",
    )
    keep(
        "anonymous",
        client.post("/auth/register", json={"name": "Again", "email": first.email, "password": PASSWORD}),
        409,
        "USER_EXISTS",
    )
    keep("anonymous", client.get("/user/profile"), 401, "INVALID_TOKEN")
    keep("anonymous", client.get("/health"), 200)

    everyone = {
        "emails": {borrower.email, first.email, second.email, stranger.email, newcomer_email},
        "ids": {borrower.user_id, first.user_id, second.user_id, stranger.user_id, newcomer.user_id},
    }
    return (
        parties,
        everyone,
        {"borrower": borrower, "first": first, "second": second, "newcomer": newcomer, "stranger": stranger},
    )


def all_responses(parties):
    return [(who, response) for who, seen in parties.items() for response in seen.responses]


def test_the_journey_covers_every_operation(journey):
    parties, _, _ = journey
    operations = {
        (r.request.method, re.sub(r"[0-9a-f-]{36}", "{id}", r.request.url.path)) for _, r in all_responses(parties)
    }
    assert operations >= {
        ("POST", "/auth/register"),
        ("POST", "/auth/login"),
        ("POST", "/loans"),
        ("GET", "/loans/{id}"),
        ("GET", "/loans/my-loans"),
        ("GET", "/lender/pending"),
        ("PUT", "/lender/accept/{id}"),
        ("GET", "/user/profile"),
        ("GET", "/user/dashboard"),
        ("GET", "/health"),
    }
    assert len(all_responses(parties)) >= 40


def test_no_password_hash_password_or_full_bank_number_anywhere(journey):
    parties, _, _ = journey
    for who, response in all_responses(parties):
        where = (who, response.request.method, response.request.url.path)
        assert response.headers["content-type"].split(";")[0] == "application/json", where
        assert "set-cookie" not in response.headers, where
        body = response.json()
        for path, key, value in walk(body):
            assert key is None or "password" not in key.lower(), (where, path)
            assert key is None or key not in ("salt", "secret", "hash", "kid"), (where, path)
            if isinstance(value, str):
                assert not HASH.search(value), (where, path)
                assert PASSWORD not in value, (where, path)
        headers = str(dict(response.headers))
        for number in FULL_NUMBERS:
            assert number not in response.text, (where, number)
            assert number not in headers, (where, number)
        assert FIRST_ACH["special_instructions"] not in response.text, where


def test_each_party_sees_only_the_emails_and_ids_the_contract_grants(journey):
    parties, everyone, _ = journey
    for who, seen in parties.items():
        if who == "anonymous":
            continue
        forbidden_emails = everyone["emails"] - seen.emails_allowed
        forbidden_ids = everyone["ids"] - seen.ids_allowed
        for response in seen.responses:
            text = response.text.lower()
            where = (who, response.request.method, response.request.url.path)
            for email in forbidden_emails:
                assert email not in text, (where, email)
            for user_id in forbidden_ids:
                assert user_id not in text, (where, user_id)


def test_refusals_to_anonymous_callers_name_no_account(journey):
    """A failed login and a duplicate registration do not say whose account it is."""
    parties, everyone, _accounts = journey
    for response in parties["anonymous"].responses:
        for user_id in everyone["ids"]:
            assert user_id not in response.text
        assert "First" not in response.text  # the account holder's name


def test_masked_numbers_show_at_most_four_digits_and_half_the_number(journey):
    parties, _, _ = journey
    accepted = [r for r in parties["first"].responses if r.request.method == "PUT" and r.status_code == 200]
    assert len(accepted) == 1
    ach = accepted[0].json()["ach"]
    assert ach == {
        "bank_name": FIRST_ACH["bank_name"],
        "account_type": "checking",
        "routing_number_masked": "*****0015",
        "account_number_masked": "*******3421",
    }


def test_the_profile_never_carries_bank_details(journey):
    parties, _, _ = journey
    for who in ("first", "second", "newcomer", "borrower"):
        profiles = [r for r in parties[who].responses if r.request.url.path == "/user/profile"]
        assert profiles, who
        for response in profiles:
            body = response.json()
            assert set(body) == USER_KEYS, (who, body)
            for value in body.values():
                assert value not in (FIRST_ACH["bank_name"], "checking", *FULL_NUMBERS), (who, body)


def test_the_dashboard_carries_figures_only(journey):
    parties, _everyone, _ = journey
    for who, seen in parties.items():
        for response in seen.responses:
            if response.request.url.path != "/user/dashboard":
                continue
            for path, key, value in walk(response.json()):
                # The only strings are the due dates of the next payments.
                if isinstance(value, str) and not (key == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
                    raise AssertionError(f"{who}: a string in the dashboard at {path}: {value!r}")
