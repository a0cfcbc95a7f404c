"""Notifications: the notifier turns each loan event on the events table's stream into the
notices its people should get (and an email for invitees with no account), exactly once
however often a record is delivered; users read their inbox through the API."""

from __future__ import annotations

from collections import Counter

from devstack import mailbox
from devstack.workers import StreamPump

from conftest import assert_error, soon, unique_email, write_count


def inbox(account, **params) -> list[dict]:
    response = account.get("/user/notifications", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def kinds(account, loan_id: str) -> Counter:
    return Counter(item["type"] for item in inbox(account) if item["loan_id"] == loan_id)


def test_each_event_notifies_exactly_its_people_once(register, notifier, services, local_aws) -> None:
    borrower, a, b, c = (register(label) for label in ("borrower", "lender-a", "lender-b", "lender-c"))
    newcomer = unique_email("newcomer")
    loan_id = borrower.create_loan([(a.email, 600), (b.email, 400), (newcomer, 100)], amount=1000)["loan_id"]
    assert b.decline(loan_id).status_code == 200
    assert borrower.invite(loan_id, [(c.email, 400)]).status_code == 201
    assert a.accept(loan_id).status_code == 200
    assert c.accept(loan_id).json()["loan"]["status"] == "ACTIVE"

    notifier.pump()
    expected = {
        borrower: Counter(INVITATION_DECLINED=1, INVITATION_ACCEPTED=2, LOAN_ACTIVATED=1),
        a: Counter(LOAN_CREATED=1, LOAN_ACTIVATED=1),
        b: Counter(LOAN_CREATED=1, LOAN_ACTIVATED=1),
        c: Counter(LENDERS_INVITED=1, LOAN_ACTIVATED=1),
    }
    assert {user.email: kinds(user, loan_id) for user in expected} == {u.email: k for u, k in expected.items()}
    assert len(mailbox.sent(newcomer)) == 1  # asked to register, to see the invitation

    # Every record delivered again, from the stream's start: nothing new, and what was read
    # stays read.
    ids = [item["notification_id"] for item in inbox(a) if item["loan_id"] == loan_id]
    assert a.post("/user/notifications/read", json={"notification_ids": ids}).json() == {"marked": 2}
    again = StreamPump(services, local_aws.endpoint_url)
    assert again.pump() > 0
    assert {user.email: kinds(user, loan_id) for user in expected} == {u.email: k for u, k in expected.items()}
    assert all(item["read"] for item in inbox(a) if item["loan_id"] == loan_id)
    assert len(mailbox.sent(newcomer)) == 1

    [notice] = [item for item in inbox(a) if item["type"] == "LOAN_ACTIVATED" and item["loan_id"] == loan_id]
    [event] = [e for e in borrower.events(loan_id) if e["type"] == "LOAN_ACTIVATED"]
    assert notice["event_id"] == event["event_id"] and notice["at"] == event["at"]
    assert "fully funded" in notice["message"]


def test_cancellation_and_expiry_reach_every_registered_participant(register, notifier, later_services) -> None:
    borrower, a, b = register("borrower"), register("lender-a"), register("lender-b")
    cancelled = borrower.create_loan([(a.email, 500), (b.email, 500)], amount=1000)["loan_id"]
    expiring = borrower.create_loan([(a.email, 500), (b.email, 500)], amount=1000, funding_deadline=soon())["loan_id"]
    assert a.accept(cancelled).status_code == 200
    assert borrower.cancel(cancelled, "Changed plans").status_code == 200
    assert later_services.expiry.expire_due() >= 1

    notifier.pump()
    for user in (borrower, a, b):
        assert kinds(user, cancelled)["LOAN_CANCELLED"] == 1
        assert kinds(user, expiring)["LOAN_EXPIRED"] == 1


def test_a_failed_email_is_sent_when_its_event_is_delivered_again(register, notifier, services, monkeypatch) -> None:
    borrower, newcomer = register("borrower"), unique_email("newcomer")
    borrower.create_loan([(newcomer, 100)], amount=100)
    with monkeypatch.context() as patch:
        patch.setattr(services.mailer, "send", lambda email: False)
        notifier.pump()  # the send fails: the record is reported back, not skipped
    assert mailbox.sent(newcomer) == []
    notifier.pump()
    assert len(mailbox.sent(newcomer)) == 1


def test_the_inbox_newest_first_unread_and_marked_read(register, notifier) -> None:
    borrower, lender = register("borrower"), register("lender")
    loans = [borrower.create_loan([(lender.email, 100)], amount=100, purpose=f"Loan {i}")["loan_id"] for i in range(3)]
    notifier.pump()

    items = inbox(lender)
    assert [item["loan_id"] for item in items] == loans[::-1]
    assert all(not item["read"] for item in items)
    # Pages of one, in the same order.
    pages, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = lender.get("/user/notifications", params=params).json()
        pages += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert pages == items

    first = items[0]["notification_id"]
    response = lender.post("/user/notifications/read", json={"notification_ids": [first]})
    assert (response.status_code, response.json()) == (200, {"marked": 1})
    assert [item["notification_id"] for item in inbox(lender, unread="true")] == [
        i["notification_id"] for i in items[1:]
    ]
    assert [item["read"] for item in inbox(lender)] == [True, False, False]
    # Marking it again, or someone else's, marks nothing.
    assert lender.post("/user/notifications/read", json={"notification_ids": [first]}).json() == {"marked": 0}
    theirs = {"notification_ids": [items[1]["notification_id"]]}
    assert borrower.post("/user/notifications/read", json=theirs).json() == {"marked": 0}
    assert len(inbox(lender, unread="true")) == 2


def test_marking_read_refuses_what_the_contract_does_not_allow(register, store) -> None:
    user = register("reader")
    writes = write_count(store)
    for body in ({}, {"notification_ids": []}, {"notification_ids": ["a"] * 2}, {"notification_ids": ["x y"]}):
        assert_error(user.post("/user/notifications/read", json=body), 400, "INVALID_INPUT")
    assert write_count(store) == writes
