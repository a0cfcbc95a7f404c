"""Finding 3 of the integrity review: invitations went to whoever registered the email. Now an
account must prove it owns its address before it sees or funds anything: until then no
invitation is attached to it, `GET /lender/pending` is empty, and creating or accepting a
loan is `403 EMAIL_NOT_VERIFIED`. The proof is a single-use link token emailed through SES
(moto's here), of which only the SHA-256 is stored."""

import hashlib

import pytest

from devstack import mailbox
from service.domain.verification import TOKEN_TTL_SECONDS, InvalidVerificationToken, ResendTooSoon

from conftest import ACH, PASSWORD, Account, assert_error, bearer, unique_email, verify, write_count
from security_support import client  # noqa: F401 (fixture)


def register_only(client, label: str, email: str | None = None) -> Account:
    return Account(client, label.title(), email or unique_email(label), verified=False)


def test_a_squatter_who_registers_an_invited_email_sees_and_funds_nothing(client, store):
    """As reported: registering `invitee@…` after a borrower invited it showed the loan and
    let the squatter accept it with their own bank account."""
    borrower = Account(client, "Borrower", unique_email("borrower"))
    invitee = unique_email("invitee")
    loan = borrower.create_loan([(invitee, 100)], amount=100)
    squatter = register_only(client, "squatter", invitee)

    assert squatter.user["email_verified"] is False and squatter.user["is_lender"] is False
    assert squatter.get("/lender/pending").json() == {"items": [], "next_cursor": None}
    before = write_count(store)
    assert_error(squatter.accept(loan["loan_id"]), 403, "EMAIL_NOT_VERIFIED")
    assert_error(squatter.get(f"/loans/{loan['loan_id']}"), 403, "ACCESS_DENIED")
    assert write_count(store) == before
    # A login does not attach it either.
    login = client.post("/auth/login", json={"email": invitee, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["user"]["is_lender"] is False
    assert client.get("/lender/pending", headers=bearer(login.json()["token"])).json()["items"] == []
    # The borrower still sees the invitee as not registered.
    [participant] = borrower.get(f"/loans/{loan['loan_id']}").json()["participants"]
    assert (participant["email"], participant["registered"], participant["lender_id"]) == (invitee, False, None)


def test_an_address_registered_before_any_invitation_captures_none(client):
    squatter = register_only(client, "early")
    borrower = Account(client, "Borrower", unique_email("borrower"))
    loan = borrower.create_loan([(squatter.email, 100)], amount=100)
    assert loan["participants"][0]["registered"] is False  # not the squatter's participation
    assert squatter.get("/lender/pending").json()["items"] == []
    assert_error(squatter.accept(loan["loan_id"]), 403, "EMAIL_NOT_VERIFIED")


def test_an_unverified_account_cannot_borrow(client, store):
    account = register_only(client, "unverified")
    before = write_count(store)
    response = account.post(
        "/loans",
        json={
            "amount": 100,
            "interest_rate": 5,
            "term": "12 months",
            "purpose": "p",
            "lenders": [{"email": unique_email("l"), "contribution_amount": 100}],
        },
    )
    assert_error(response, 403, "EMAIL_NOT_VERIFIED")
    assert write_count(store) == before


def test_verifying_attaches_the_waiting_invitations_and_logs_in(client, notifier):
    borrower = Account(client, "Borrower", unique_email("borrower"))
    invitee = unique_email("owner")
    loan = borrower.create_loan([(invitee, 100)], amount=100)
    notifier.pump()  # the invitation email comes from the notifier, off the loan's events
    notifier.pump()  # and only once, however often the stream is read
    invitation = mailbox.sent(invitee)
    assert [email["subject"] for email in invitation] == ["Borrower invited you to fund a loan"]
    assert "register" in invitation[0]["text"] and invitee in invitation[0]["text"]

    owner = register_only(client, "owner", invitee)
    verified = verify(client, invitee)
    assert verified.status_code == 200, verified.text
    session = verified.json()
    assert session["user"]["email_verified"] is True and session["user"]["is_lender"] is True
    pending = client.get("/lender/pending", headers=bearer(session["token"])).json()["items"]
    assert [item["loan_id"] for item in pending] == [loan["loan_id"]]
    assert (
        client.put(f"/lender/accept/{loan['loan_id']}", json=ACH, headers=bearer(session["token"])).status_code == 200
    )
    # The token the account got at registration works too, now that the account is verified.
    assert owner.get("/user/profile").json()["email_verified"] is True


def test_a_token_works_once_and_only_its_hash_is_stored(client, store):
    account = register_only(client, "once")
    token = mailbox.verification_token(account.email)
    assert len(token) == 43  # 32 random bytes, base64url
    raw = store.db.client.scan(TableName=store.db.names.users)["Items"]  # a test may scan
    assert token not in str(raw)
    assert any(item["user_id"] == f"email-verification#{hashlib.sha256(token.encode()).hexdigest()}" for item in raw)
    assert client.post("/auth/verify-email", json={"token": token}).status_code == 200
    assert_error(client.post("/auth/verify-email", json={"token": token}), 400, "INVALID_VERIFICATION_TOKEN")


@pytest.mark.parametrize("token", ["A" * 43, "x" * 43])
def test_an_unknown_token_is_refused(client, token):
    assert_error(client.post("/auth/verify-email", json={"token": token}), 400, "INVALID_VERIFICATION_TOKEN")


@pytest.mark.parametrize(
    "body", [{}, {"token": ""}, {"token": "short"}, {"token": "!" * 43}, {"token": 5}, {"token": "A" * 43, "extra": 1}]
)
def test_a_malformed_request_is_invalid_input(client, body):
    assert_error(client.post("/auth/verify-email", json=body), 400, "INVALID_INPUT")


def test_a_token_expires_after_24_hours(client, services_later):
    account = register_only(client, "late")
    token = mailbox.verification_token(account.email)
    with pytest.raises(InvalidVerificationToken, match="expired"):
        services_later(TOKEN_TTL_SECONDS + 1).verification.verify(token)
    # Just before, it works (an injected clock, no waiting).
    session = services_later(TOKEN_TTL_SECONDS - 60).verification.verify(token)
    assert session.user.email_verified is True


def test_resending_is_limited_to_one_a_minute_and_replaces_the_link(client, services_later):
    account = register_only(client, "resend")
    first = mailbox.verification_token(account.email)
    too_soon = account.post("/auth/resend-verification")
    error = assert_error(too_soon, 429, "TOO_MANY_ATTEMPTS")
    assert 1 <= int(too_soon.headers["retry-after"]) <= 60, error
    assert len(mailbox.sent(account.email)) == 1

    services_later(61).verification.resend(account.user_id)
    with pytest.raises(ResendTooSoon):
        services_later(62).verification.resend(account.user_id)
    second = mailbox.verification_token(account.email)
    assert second != first and len(mailbox.sent(account.email)) == 2
    assert_error(client.post("/auth/verify-email", json={"token": first}), 400, "INVALID_VERIFICATION_TOKEN")
    assert client.post("/auth/verify-email", json={"token": second}).status_code == 200
    assert_error(account.post("/auth/resend-verification"), 409, "EMAIL_ALREADY_VERIFIED")


def test_resend_needs_a_token(client):
    assert_error(client.post("/auth/resend-verification"), 401, "INVALID_TOKEN")


def test_unverified_accounts_are_not_invited_directly(client):
    """An invitation to an unverified account's email waits as an invitation; the borrower
    sees the participant as not registered until the owner verifies."""
    pending_owner = register_only(client, "pending")
    borrower = Account(client, "Borrower", unique_email("borrower"))
    loan = borrower.create_loan([(pending_owner.email, 100)], amount=100)
    assert loan["participants"][0]["registered"] is False
    assert verify(client, pending_owner.email).status_code == 200
    [participant] = borrower.get(f"/loans/{loan['loan_id']}").json()["participants"]
    assert participant["registered"] is True and participant["lender_id"] == pending_owner.user_id
