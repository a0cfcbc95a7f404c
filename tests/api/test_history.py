"""A loan's history through `GET /loans/{loan_id}/events`: every change's event, in order, with
gapless sequences; the borrower sees it all, a lender the loan-level events and their own;
events are never changed once written."""

from __future__ import annotations

import itertools
import json

from conftest import assert_error, unique_email


def _journey(register):
    """Created inviting a, b and an unregistered email; more invited; b declines; a and c fund it."""
    borrower, a, b, c = (register(label) for label in ("borrower", "lender-a", "lender-b", "lender-c"))
    stranger_email = unique_email("unregistered")
    loan_id = borrower.create_loan([(a.email, 600), (b.email, 400), (stranger_email, 100)], amount=1000)["loan_id"]
    assert b.decline(loan_id, "Not now").status_code == 200
    assert borrower.invite(loan_id, [(c.email, 400)]).status_code == 201
    assert a.accept(loan_id).status_code == 200
    assert c.accept(loan_id).status_code == 200
    return borrower, a, b, c, stranger_email, loan_id


def test_the_borrower_reads_every_change_in_order(register) -> None:
    borrower, a, b, c, stranger_email, loan_id = _journey(register)

    events = borrower.events(loan_id)

    assert [(e["sequence"], e["type"], e["from_status"], e["to_status"]) for e in events] == [
        (1, "LOAN_CREATED", None, "PENDING"),
        (2, "INVITATION_DECLINED", "PENDING", "PENDING"),
        (3, "LENDERS_INVITED", "PENDING", "PENDING"),
        (4, "INVITATION_ACCEPTED", "PENDING", "PENDING"),
        (5, "INVITATION_ACCEPTED", "PENDING", "PENDING"),
        (6, "LOAN_ACTIVATED", "PENDING", "ACTIVE"),
    ]
    actors = [e["actor_id"] for e in events]
    assert actors == [borrower.user_id, b.user_id, borrower.user_id, a.user_id, c.user_id, c.user_id]
    created = events[0]["data"]
    assert created["amount"] == 1000
    assert {(x["email"], x["lender_id"], x["contribution_amount"]) for x in created["lenders"]} == {
        (a.email, a.user_id, 600),
        (b.email, b.user_id, 400),
        (stranger_email, None, 100),
    }
    assert events[1]["data"] == {"lender_id": b.user_id, "email": b.email, "reason": "Not now"}
    assert [x["email"] for x in events[2]["data"]["lenders"]] == [c.email]
    assert [e["data"]["funded_amount"] for e in events[3:5]] == [600, 400]
    assert events[5]["data"] == {"total_funded": 1000}
    times = [e["at"] for e in events]
    assert times == sorted(times)
    loan = borrower.get(f"/loans/{loan_id}").json()
    assert events[5]["at"] == loan["activated_at"]


def test_pages_follow_one_another_without_gaps_or_repeats(register) -> None:
    borrower, *_, loan_id = _journey(register)
    everything = borrower.events(loan_id)
    pages, cursor = [], None
    while True:
        response = borrower.get(
            f"/loans/{loan_id}/events", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 2, 2]
    assert [e for page in pages for e in page] == everything
    # A cursor belongs to its loan's history.
    other = borrower.create_loan([(unique_email("other"), 100)], amount=100)["loan_id"]
    first = borrower.get(f"/loans/{loan_id}/events", params={"limit": 2}).json()["next_cursor"]
    assert_error(borrower.get(f"/loans/{other}/events", params={"cursor": first}), 400, "INVALID_INPUT")


def test_a_lender_sees_the_loan_level_events_and_their_own(register) -> None:
    borrower, a, b, c, stranger_email, loan_id = _journey(register)

    seen = a.events(loan_id)

    assert [(e["sequence"], e["type"]) for e in seen] == [
        (1, "LOAN_CREATED"),
        (4, "INVITATION_ACCEPTED"),
        (6, "LOAN_ACTIVATED"),
    ]
    assert seen[0]["data"]["lenders"] == [{"email": a.email, "lender_id": a.user_id, "contribution_amount": 600}]
    assert seen[2]["actor_id"] is None  # c's acceptance activated it
    assert borrower.events(loan_id)[5]["actor_id"] == c.user_id
    text = json.dumps(seen)
    for other in (b.email, c.email, stranger_email, b.user_id, c.user_id):
        assert other not in text
    # b declined: their own answer, and the loan-level events.
    assert [e["type"] for e in b.events(loan_id)] == ["LOAN_CREATED", "INVITATION_DECLINED", "LOAN_ACTIVATED"]
    # c was invited later: the loan's creation (naming no lender), then their invitation.
    later = c.events(loan_id)
    assert [e["type"] for e in later] == ["LOAN_CREATED", "LENDERS_INVITED", "INVITATION_ACCEPTED", "LOAN_ACTIVATED"]
    assert later[0]["data"]["lenders"] == [] and later[0]["data"]["amount"] == 1000


def test_only_the_loans_people_read_its_history(register) -> None:
    borrower, *_, loan_id = _journey(register)
    outsider = register("outsider")
    assert_error(outsider.get(f"/loans/{loan_id}/events"), 403, "ACCESS_DENIED")
    assert_error(borrower.get("/loans/00000000-0000-4000-8000-000000000000/events"), 404, "LOAN_NOT_FOUND")


def test_events_are_never_changed_once_written(register, services) -> None:
    borrower, a, b = register("borrower"), register("lender-a"), register("lender-b")
    loan_id = borrower.create_loan([(a.email, 600), (b.email, 400)], amount=1000)["loan_id"]
    table = services.store.db.table(services.settings.tables.events)

    def stored() -> dict[str, dict]:
        items = table.query(KeyConditionExpression="loan_id = :l", ExpressionAttributeValues={":l": loan_id})["Items"]
        return {item["event_id"]: item for item in items}

    history = [stored()]
    for act in (
        lambda: b.decline(loan_id),
        lambda: borrower.invite(loan_id, [(unique_email("more"), 400)]),
        lambda: a.accept(loan_id),
        lambda: borrower.cancel(loan_id, "No longer needed"),
    ):
        assert act().status_code in (200, 201)
        history.append(stored())
    # Each change added one event and left every earlier one as it was.
    for earlier, later in itertools.pairwise(history):
        assert len(later) == len(earlier) + 1
        assert {key: later[key] for key in earlier} == earlier
    assert [e["type"] for e in borrower.events(loan_id)][-1] == "LOAN_CANCELLED"
