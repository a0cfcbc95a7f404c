"""The whole journey through HTTP: register, invite known and unknown lenders, accept,
activation at full funding, and everyone's dashboards."""

from decimal import Decimal

from service.clock import SystemClock
from service.domain.invitations import Invitation
from service.domain.loans import Participant
from service.store.invitations import invitation_item
from service.store.participants import participant_item
from service.usecases import new_id

from conftest import PASSWORD, unique_email


def test_full_journey(api, register):
    borrower = register("borrower")
    known = register("lender")
    unknown_email = unique_email("newcomer")

    loan = borrower.create_loan([(known.email, 600), (unknown_email, 700)], amount=1000, description="Inventory")
    assert loan["status"] == "PENDING"
    assert loan["total_funded"] == 0 and loan["remaining_amount"] == 1000
    by_email = {p["email"]: p for p in loan["participants"]}
    assert by_email[known.email]["lender_id"] == known.user_id
    assert by_email[unknown_email] == {**by_email[unknown_email], "lender_id": None, "registered": False}

    # The known lender sees the invitation at once; the newcomer registers and sees theirs.
    pending = known.get("/lender/pending").json()["items"]
    assert [(i["loan_id"], i["contribution_amount"]) for i in pending] == [(loan["loan_id"], 600)]
    assert known.get("/user/profile").json()["is_lender"] is True

    newcomer = register("newcomer", email=unknown_email)
    assert newcomer.user["is_lender"] is True
    pending = newcomer.get("/lender/pending").json()["items"]
    assert [(i["loan_id"], i["loan"]["amount"]) for i in pending] == [(loan["loan_id"], 1000)]

    first = known.accept(loan["loan_id"])
    assert first.status_code == 200, first.text
    assert first.json()["loan"]["status"] == "PENDING"
    assert first.json()["loan"]["total_funded"] == 600
    assert first.json()["ach"]["account_number_masked"] == "********6789"

    # 400 remains, the newcomer offered 700: they fund exactly the remainder.
    second = newcomer.accept(loan["loan_id"])
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["participation"]["funded_amount"] == 400
    assert body["participation"]["contribution_amount"] == 700
    assert body["loan"]["status"] == "ACTIVE" and body["loan"]["total_funded"] == 1000
    assert body["loan"]["activated_at"] is not None

    seen_by_borrower = borrower.get(f"/loans/{loan['loan_id']}").json()
    assert seen_by_borrower["status"] == "ACTIVE"
    assert seen_by_borrower["funding_progress"] == 100
    assert {p["email"]: (p["status"], p["funded_amount"]) for p in seen_by_borrower["participants"]} == {
        known.email: ("ACCEPTED", 600),
        unknown_email: ("ACCEPTED", 400),
    }
    assert newcomer.get("/lender/pending").json()["items"] == []

    assert borrower.get("/user/dashboard").json() == {
        "borrower": {
            "loan_count": 1,
            "pending_count": 0,
            "active_count": 1,
            "cancelled_count": 0,
            "expired_count": 0,
            "total_requested": 1000,
            "total_funded": 1000,
            "pending_requested": 0,
            "active_principal": 1000,
            "expected_interest": 65,  # 1000 × 6.5% × 12/12
        },
        "lender": None,
    }
    assert newcomer.get("/user/dashboard").json()["lender"] == {
        "invitation_count": 1,
        "pending_invitations": 0,
        "accepted_count": 1,
        "declined_count": 0,
        "pending_commitment": 0,
        "total_funded": 400,
        "expected_interest": 26,
    }


def test_dual_role_dashboard_and_my_loans(api, register):
    alice, bob, carol = register("alice"), register("bob"), register("carol")
    # Bob borrows from Alice; Alice borrows from Bob and Carol: both are borrower and lender.
    bobs = bob.create_loan([(alice.email, 500)], amount=500, term="6 months", interest_rate=10)
    first = alice.create_loan([(bob.email, 300), (carol.email, 300)], amount=400)
    second = alice.create_loan([(bob.email, 100)], amount=100)
    assert alice.accept(bobs["loan_id"]).status_code == 200
    assert bob.accept(first["loan_id"]).status_code == 200

    dashboard = alice.get("/user/dashboard").json()
    assert dashboard["borrower"] == {
        "loan_count": 2,
        "pending_count": 2,
        "active_count": 0,
        "cancelled_count": 0,
        "expired_count": 0,
        "total_requested": 500,
        "total_funded": 300,
        "pending_requested": 500,
        "active_principal": 0,
        "expected_interest": 0,
    }
    assert dashboard["lender"] == {
        "invitation_count": 1,
        "pending_invitations": 0,
        "accepted_count": 1,
        "declined_count": 0,
        "pending_commitment": 0,
        "total_funded": 500,
        "expected_interest": 25,  # 500 × 10% × 6/12
    }
    bob_dashboard = bob.get("/user/dashboard").json()
    assert bob_dashboard["lender"]["pending_invitations"] == 1
    assert bob_dashboard["lender"]["pending_commitment"] == 100
    assert bob_dashboard["borrower"]["active_count"] == 1

    # Newest first, paged with an opaque cursor.
    page = alice.get("/loans/my-loans", params={"limit": 1}).json()
    assert [loan["loan_id"] for loan in page["items"]] == [second["loan_id"]]
    rest = alice.get("/loans/my-loans", params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert [loan["loan_id"] for loan in rest["items"]] == [first["loan_id"]]


def test_login_activates_invitations_sent_after_registration(api, register, store):
    borrower = register("borrower")
    lender = register("late")
    # An invitation can be filed for a registered email (the borrower's lookup raced the
    # registration); the lender's next login must turn it into a participation.
    loan = borrower.create_loan([(unique_email("other"), 100)], amount=100)
    participant = Participant(
        loan_id=loan["loan_id"],
        email=lender.email,
        contribution_amount=Decimal(50),
        interest_rate=Decimal("6.5"),
        term="12 months",
        invited_at=SystemClock().timestamp(),
    )
    invitation = Invitation(
        new_id(),
        loan["loan_id"],
        borrower.user_id,
        lender.email,
        Decimal(50),
        Decimal("6.5"),
        "12 months",
        SystemClock().timestamp(),
    )
    store.db.client.put_item(TableName=store.db.names.invitations, Item=invitation_item(invitation))
    store.db.client.put_item(TableName=store.db.names.participants, Item=participant_item(participant))
    assert lender.get("/lender/pending").json()["items"] == []

    response = api.post("/auth/login", json={"email": lender.email.upper(), "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["is_lender"] is True
    pending = lender.get("/lender/pending").json()["items"]
    assert [item["loan_id"] for item in pending] == [loan["loan_id"]]


def test_participants_come_ordered_by_email(register):
    """The contract says so; the store keeps them by lender id, which is no order at all."""
    borrower = register("borrower")
    emails = [unique_email(label) for label in ("zed", "amy", "max", "bob")]
    created = borrower.create_loan([(email, 25) for email in emails], amount=100)
    read = borrower.get(f"/loans/{created['loan_id']}").json()
    for loan in (created, read):
        assert [p["email"] for p in loan["participants"]] == sorted(emails)
