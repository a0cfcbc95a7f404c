"""API1 Broken object level authorization: every loan, participation, invitation and page of
a list belongs to someone, and nobody else reaches it by id, by list or by cursor.

tests/api/test_authorization.py already proves that a stranger, a lender of another loan
and the borrower are refused on a PENDING loan, and that an invited lender sees only their
own participation in GET /loans/{id}. This suite goes further: refusals that hold after the
loan changes state, ids that are guessed, lists and cursors, and privacy between lenders at
every step of a loan's life.
"""

import uuid
from types import SimpleNamespace

import pytest

from conftest import Account, assert_error, unique_email, write_count
from security_support import assert_only_error_keys, client  # noqa: F401


def new_account(client, label: str) -> Account:
    return Account(client, label.title(), unique_email(label))


def all_pages(account: Account, path: str, limit: int = 1) -> list[dict]:
    """Every item of a list, following next_cursor page by page."""
    items, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = account.get(path, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def funded(client):
    """A loan of 1000 that two lenders funded (ACTIVE), a third lender who was too late, and
    an outsider."""
    borrower, first, second, late = (new_account(client, n) for n in ("borrower", "first", "second", "late"))
    loan_id = borrower.create_loan([(first.email, 600), (second.email, 400), (late.email, 300)], amount=1000)["loan_id"]
    assert first.accept(loan_id).status_code == 200
    assert second.accept(loan_id).json()["loan"]["status"] == "ACTIVE"
    return SimpleNamespace(
        borrower=borrower,
        first=first,
        second=second,
        late=late,
        outsider=new_account(client, "outsider"),
        loan_id=loan_id,
    )


def test_an_active_loan_stays_closed_to_outsiders_and_learns_them_nothing(store, funded):
    before = write_count(store)
    for account in (funded.outsider, funded.borrower):
        refused = account.accept(funded.loan_id)
        assert_error(refused, 403, "ACCESS_DENIED")
        assert_only_error_keys(refused)
    read = funded.outsider.get(f"/loans/{funded.loan_id}")
    assert_error(read, 403, "ACCESS_DENIED")
    assert_only_error_keys(read)
    for secret in (funded.borrower.email, funded.first.email, funded.borrower.user_id, funded.loan_id):
        assert secret not in read.text
    assert write_count(store) == before
    # The late lender is still invited: they may read the loan but cannot fund it any more.
    assert funded.late.get(f"/loans/{funded.loan_id}").status_code == 200
    assert_error(funded.late.accept(funded.loan_id), 409, "LOAN_FULLY_FUNDED")


def test_guessed_loan_ids_give_404_or_403_and_never_data(client, store, funded):
    before = write_count(store)
    for _ in range(25):
        guess = str(uuid.uuid4())
        for response in (funded.outsider.get(f"/loans/{guess}"), funded.outsider.accept(guess)):
            assert_error(response, 404, "LOAN_NOT_FOUND")
            assert_only_error_keys(response)
    # Other real ids are not loan ids: a user's id or a participant's id finds nothing.
    for other_id in (funded.borrower.user_id, funded.first.user_id, funded.outsider.user_id):
        assert_error(funded.outsider.get(f"/loans/{other_id}"), 404, "LOAN_NOT_FOUND")
    # Spellings of the real id that a lax lookup might resolve are refused as malformed.
    for spelling in (
        funded.loan_id.upper(),
        funded.loan_id.replace("-", ""),
        f"{funded.loan_id}%20",
        f"email%23{funded.first.email}",
        "%2A",
        funded.loan_id[:-1] + "%25",
    ):
        for response in (funded.outsider.get(f"/loans/{spelling}"), funded.outsider.accept(spelling)):
            assert_error(response, 400, "INVALID_INPUT")
            assert funded.borrower.email not in response.text
    assert write_count(store) == before


def test_user_identity_cannot_be_smuggled_in_as_a_parameter(funded):
    """Handlers take the caller from the token (`user`); a query parameter of that name, or of
    Connexion's `token_info`, is refused rather than used."""
    for path in ("/user/profile", "/user/dashboard", "/loans/my-loans", "/lender/pending"):
        for name in ("user", "token_info", "user_id"):
            response = funded.outsider.get(path, params={name: funded.borrower.user_id})
            assert_error(response, 400, "INVALID_INPUT")
    response = funded.outsider.get(f"/loans/{funded.loan_id}", params={"user": funded.borrower.user_id})
    assert_error(response, 400, "INVALID_INPUT")


def test_lenders_never_see_each_other_at_any_stage(client):
    """Before and after acceptances, and after an invited newcomer registers, each lender's
    view of the loan, their pending list and their dashboard show only themselves."""
    borrower, first, second = (new_account(client, n) for n in ("borrower", "first", "second"))
    newcomer_email = unique_email("newcomer")
    loan_id = borrower.create_loan([(first.email, 500), (second.email, 500), (newcomer_email, 500)], amount=1500)[
        "loan_id"
    ]

    def views_of(lender: Account) -> list:
        return [lender.get(f"/loans/{loan_id}"), lender.get("/lender/pending"), lender.get("/user/dashboard")]

    newcomer = None
    for stage in ("invited", "second accepted", "newcomer registered", "first accepted"):
        if stage == "second accepted":
            assert second.accept(loan_id).status_code == 200
        elif stage == "newcomer registered":
            newcomer = Account(client, "Newcomer", newcomer_email)
        elif stage == "first accepted":
            accepted = first.accept(loan_id)
            assert accepted.status_code == 200
            assert [p["email"] for p in accepted.json()["loan"]["participants"]] == [first.email]
        lenders = [first, second] + ([newcomer] if newcomer else [])
        for lender in lenders:
            loan_view, pending, dashboard = views_of(lender)
            assert loan_view.status_code == pending.status_code == dashboard.status_code == 200
            assert [(p["email"], p["lender_id"]) for p in loan_view.json()["participants"]] == [
                (lender.email, lender.user_id)
            ], stage
            for response in (loan_view, pending, dashboard):
                text = response.text.lower()
                others = [a for a in lenders if a is not lender]
                for other in others:
                    assert other.email not in text and other.user_id not in text, (stage, lender.email)
                if lender.email != newcomer_email:
                    assert newcomer_email not in text, stage
    # The borrower, and only the borrower, sees all three.
    everyone = {p["email"] for p in borrower.get(f"/loans/{loan_id}").json()["participants"]}
    assert everyone == {first.email, second.email, newcomer_email}


def test_my_loans_lists_exactly_the_callers_loans(client):
    one, two, lender = (new_account(client, n) for n in ("one", "two", "lender"))
    mine = {one.create_loan([(lender.email, 100)], amount=100)["loan_id"] for _ in range(3)}
    theirs = {two.create_loan([(lender.email, 100), (one.email, 100)], amount=100)["loan_id"] for _ in range(2)}

    assert {loan["loan_id"] for loan in all_pages(one, "/loans/my-loans")} == mine
    assert {loan["borrower_id"] for loan in all_pages(one, "/loans/my-loans")} == {one.user_id}
    assert {loan["loan_id"] for loan in all_pages(two, "/loans/my-loans")} == theirs
    # Being invited to loans does not make them yours.
    assert all_pages(lender, "/loans/my-loans") == []
    assert one.get("/user/dashboard").json()["borrower"]["loan_count"] == 3
    assert two.get("/user/dashboard").json()["borrower"]["loan_count"] == 2


def test_pending_lists_exactly_the_callers_invitations(client):
    borrower, other_borrower = new_account(client, "borrower"), new_account(client, "other")
    first, second, bystander = (new_account(client, n) for n in ("first", "second", "bystander"))
    only_first = borrower.create_loan([(first.email, 100)], amount=100)["loan_id"]
    both = borrower.create_loan([(first.email, 100), (second.email, 100)], amount=200)["loan_id"]
    only_second = other_borrower.create_loan([(second.email, 100)], amount=100)["loan_id"]

    def pending(account):
        return {item["loan_id"]: item["contribution_amount"] for item in all_pages(account, "/lender/pending")}

    assert pending(first) == {only_first: 100, both: 100}
    assert pending(second) == {both: 100, only_second: 100}
    assert pending(bystander) == {}
    assert pending(borrower) == {}

    assert first.accept(both).status_code == 200
    assert pending(first) == {only_first: 100}
    assert pending(second) == {both: 100, only_second: 100}


@pytest.fixture
def two_pagers(client):
    """Two borrowers and two lenders, each with two items in their list, so limit=1 gives
    every one of them a next_cursor."""
    alice, bob = new_account(client, "alice"), new_account(client, "bob")
    lena, leo = new_account(client, "lena"), new_account(client, "leo")
    for borrower in (alice, bob):
        for _ in range(2):
            borrower.create_loan([(lena.email, 100), (leo.email, 100)], amount=100)
    return SimpleNamespace(alice=alice, bob=bob, lena=lena, leo=leo)


def first_cursor(account: Account, path: str) -> str:
    response = account.get(path, params={"limit": 1})
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert cursor
    return cursor


def test_a_cursor_works_only_for_the_user_and_list_it_was_issued_for(two_pagers):
    alices = first_cursor(two_pagers.alice, "/loans/my-loans")
    lenas = first_cursor(two_pagers.lena, "/lender/pending")

    # Its owner can follow it.
    assert two_pagers.alice.get("/loans/my-loans", params={"limit": 1, "cursor": alices}).status_code == 200
    assert two_pagers.lena.get("/lender/pending", params={"limit": 1, "cursor": lenas}).status_code == 200

    refusals = [
        (two_pagers.bob, "/loans/my-loans", alices),  # another borrower
        (two_pagers.lena, "/loans/my-loans", alices),  # a user with no loans of their own
        (two_pagers.alice, "/lender/pending", alices),  # the owner, on another list
        (two_pagers.leo, "/lender/pending", lenas),  # another lender
        (two_pagers.lena, "/loans/my-loans", lenas),  # the owner, on another list
        (two_pagers.bob, "/lender/pending", lenas),
    ]
    for account, path, cursor in refusals:
        response = account.get(path, params={"limit": 1, "cursor": cursor})
        body = assert_error(response, 400, "INVALID_INPUT")
        assert body.get("details") == {"field": "cursor"}, body
        assert_only_error_keys(response)


def test_a_tampered_cursor_is_refused(two_pagers):
    cursor = first_cursor(two_pagers.alice, "/loans/my-loans")
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    truncated = cursor[: len(cursor) // 2]
    for forged in (flipped, truncated, cursor + "AAAA", "A" * len(cursor)):
        response = two_pagers.alice.get("/loans/my-loans", params={"limit": 1, "cursor": forged})
        assert_error(response, 400, "INVALID_INPUT")
