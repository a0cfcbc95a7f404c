"""Many lenders race for one over-subscribed loan, each on its own connection, released
together by a barrier. The funding invariants must hold exactly."""

from collections import Counter
from decimal import Decimal

from concurrent_requests import race

from conftest import ACH, PASSWORD, bearer, unique_email

LENDERS = 30


def test_thirty_lenders_race_for_an_oversubscribed_loan(base_url, register, store):
    borrower = register("borrower")
    lenders = [register(f"racer{i}") for i in range(LENDERS)]
    # 30 × 70 = 2100 offered for 1000: 14 full contributions, then one partial of 20.
    loan = borrower.create_loan([(lender.email, 70) for lender in lenders], amount=1000)
    path = f"/lender/accept/{loan['loan_id']}"

    responses = race(base_url, [("PUT", path, lender.headers, ACH) for lender in lenders])

    outcomes = Counter(r.status_code if r.status_code == 200 else (r.status_code, r.json()["error"]) for r in responses)
    assert outcomes == {200: 15, (409, "LOAN_FULLY_FUNDED"): 15}, outcomes
    funded = sorted(Decimal(str(r.json()["participation"]["funded_amount"])) for r in responses if r.status_code == 200)
    assert funded == [Decimal(20)] + [Decimal(70)] * 14

    final = borrower.get(f"/loans/{loan['loan_id']}").json()
    accepted = [p for p in final["participants"] if p["status"] == "ACCEPTED"]
    assert final["status"] == "ACTIVE" and final["total_funded"] == 1000
    assert sum(Decimal(str(p["funded_amount"])) for p in final["participants"]) == 1000
    assert len(accepted) == 15
    # ACH details were stored for the winners and only for them.
    winners = {p["lender_id"] for p in accepted}
    for lender in lenders:
        stored = store.db.client.get_item(
            TableName=store.db.names.ach_details,
            Key={"user_id": lender.user_id, "loan_id": loan["loan_id"]},
        ).get("Item")
        assert (stored is not None) == (lender.user_id in winners)

    # A winner's second acceptance, and a loser's retry, change nothing.
    winner = next(lender for lender in lenders if lender.user_id in winners)
    loser = next(lender for lender in lenders if lender.user_id not in winners)
    assert winner.accept(loan["loan_id"]).json()["error"] == "ALREADY_ACCEPTED"
    assert loser.accept(loan["loan_id"]).json()["error"] == "LOAN_FULLY_FUNDED"
    assert borrower.get(f"/loans/{loan['loan_id']}").json() == final
    # A loan others funded is no longer pending for the lenders who lost the race.
    assert loser.get("/lender/pending").json()["items"] == []
    lender_figures = loser.get("/user/dashboard").json()["lender"]
    assert (lender_figures["pending_invitations"], lender_figures["pending_commitment"]) == (0, 0)


def test_the_same_lender_accepting_twice_at_once_funds_once(base_url, register):
    borrower, lender, other = register("borrower"), register("twice"), register("other")
    loan = borrower.create_loan([(lender.email, 400), (other.email, 600)], amount=1000)
    path = f"/lender/accept/{loan['loan_id']}"

    responses = race(base_url, [("PUT", path, lender.headers, ACH)] * 8)

    codes = Counter(r.status_code if r.status_code == 200 else r.json()["error"] for r in responses)
    assert codes == {200: 1, "ALREADY_ACCEPTED": 7}
    assert borrower.get(f"/loans/{loan['loan_id']}").json()["total_funded"] == 400


def test_concurrent_registrations_of_one_email_create_one_account(base_url, api):
    email = unique_email("popular")
    body = {"name": "Popular", "email": email, "password": PASSWORD}
    responses = race(base_url, [("POST", "/auth/register", {}, body)] * 10)

    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    winner = next(r for r in responses if r.status_code == 201).json()
    profile = api.get("/user/profile", headers=bearer(winner["token"]))
    assert profile.json()["user_id"] == winner["user"]["user_id"]
    login = api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.json()["user"]["user_id"] == winner["user"]["user_id"]


def test_the_borrower_never_sees_a_torn_loan_during_arace(base_url, register):
    borrower = register("borrower")
    lenders = [register(f"racer{i}") for i in range(12)]
    loan = borrower.create_loan([(lender.email, 50) for lender in lenders], amount=400)
    path = f"/loans/{loan['loan_id']}"
    accepts = [("PUT", f"/lender/accept/{loan['loan_id']}", lender.headers, ACH) for lender in lenders]
    reads = [("GET", path, borrower.headers, None)] * 12

    responses = race(base_url, [request for pair in zip(accepts, reads, strict=False) for request in pair])

    views = [r.json() for r in responses if r.request.method == "GET"]
    assert len(views) == 12 and all(r.status_code == 200 for r in responses if r.request.method == "GET")
    for view in views:
        funded = sum(Decimal(str(p["funded_amount"])) for p in view["participants"] if p["status"] == "ACCEPTED")
        assert funded == Decimal(str(view["total_funded"])), view
        assert (view["status"] == "ACTIVE") == (view["total_funded"] == 400)
