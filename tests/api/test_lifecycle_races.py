"""Lifecycle changes racing each other, as real concurrent requests released together by a
barrier: whatever wins, the loan ends in one whole state, never a torn one, and its history
replays to exactly that state."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

from service.domain.applications import MAX_LENDERS

from conftest import ACH, Account, soon, unique_email

ROUNDS = 6


def _race(base_url: str, requests: list[tuple[str, str, dict, Any]]) -> list[httpx.Response]:
    """Send every request at the same moment, one thread and one connection each."""
    barrier = threading.Barrier(len(requests))

    def send(request):
        method, path, headers, body = request
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/health")  # open the connection before the start line
            barrier.wait()
            return client.request(method, path, headers=headers, json=body)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def _race_with(base_url: str, request: tuple[str, str, dict, Any], job: Callable[[], object]) -> httpx.Response:
    """A request and an in-process job, released together."""
    barrier = threading.Barrier(2)

    def run() -> object:
        barrier.wait()
        return job()

    def send() -> httpx.Response:
        method, path, headers, body = request
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/health")
            barrier.wait()
            return client.request(method, path, headers=headers, json=body)

    with ThreadPoolExecutor(max_workers=2) as pool:
        running, sending = pool.submit(run), pool.submit(send)
        running.result()
        return sending.result()


def outcome(response: httpx.Response) -> int | str:
    return response.status_code if response.status_code < 300 else response.json()["error"]


def replayed(borrower: Account, loan_id: str) -> tuple[str, Decimal, list[int]]:
    """The loan's status and total_funded by its history, and the history's sequences."""
    status, total, sequences = None, Decimal(0), []
    for event in borrower.events(loan_id):
        sequences.append(event["sequence"])
        if event["type"] == "INVITATION_ACCEPTED":
            total += Decimal(str(event["data"]["funded_amount"]))
        elif event["type"] in ("LOAN_CANCELLED", "LOAN_EXPIRED"):
            total = Decimal(0)
        status = event["to_status"]
    return status, total, sequences


def assert_whole(borrower: Account, loan_id: str) -> dict:
    """The loan as its borrower reads it, agreeing with its history (which has no gaps)."""
    loan = borrower.get(f"/loans/{loan_id}").json()
    status, total, sequences = replayed(borrower, loan_id)
    assert (status, total) == (loan["status"], Decimal(str(loan["total_funded"]))), loan
    assert sequences == list(range(1, len(sequences) + 1))
    counted = sum(Decimal(str(p["funded_amount"])) for p in loan["participants"] if p["status"] == "ACCEPTED")
    assert counted == Decimal(str(loan["total_funded"]))
    return loan


def ach_records(services, loan_id: str) -> list[dict]:
    return services.store.db.table(services.settings.tables.ach_details).query(
        IndexName="loan-ach-index", KeyConditionExpression="loan_id = :l", ExpressionAttributeValues={":l": loan_id}
    )["Items"]


def test_cancel_racing_the_last_accept_ends_cancelled_or_active_never_both(base_url, register, services) -> None:
    seen = Counter()
    for _ in range(ROUNDS):
        borrower, a, b = register("borrower"), register("lender-a"), register("lender-b")
        loan_id = borrower.create_loan([(a.email, 400), (b.email, 600)], amount=1000)["loan_id"]
        assert a.accept(loan_id).status_code == 200

        cancel, accept = _race(
            base_url,
            [
                ("POST", f"/loans/{loan_id}/cancel", borrower.headers, None),
                ("PUT", f"/lender/accept/{loan_id}", b.headers, ACH),
            ],
        )

        loan = assert_whole(borrower, loan_id)
        statuses = {p["email"]: p["status"] for p in loan["participants"]}
        if loan["status"] == "CANCELLED":
            assert (outcome(cancel), outcome(accept)) == (200, "INVALID_STATE")
            assert loan["total_funded"] == 0 and statuses == {a.email: "RELEASED", b.email: "CLOSED"}
            assert ach_records(services, loan_id) == []
        else:
            assert loan["status"] == "ACTIVE" and loan["total_funded"] == 1000
            assert (outcome(cancel), outcome(accept)) == ("INVALID_STATE", 200)
            assert statuses == {a.email: "ACCEPTED", b.email: "ACCEPTED"} and len(ach_records(services, loan_id)) == 2
        seen[loan["status"]] += 1
    assert sum(seen.values()) == ROUNDS


def test_a_lender_declining_and_accepting_at_once_does_exactly_one(base_url, register) -> None:
    for _ in range(ROUNDS):
        borrower, lender, other = register("borrower"), register("lender"), register("other")
        loan_id = borrower.create_loan([(lender.email, 400), (other.email, 600)], amount=1000)["loan_id"]

        decline, accept = _race(
            base_url,
            [
                ("PUT", f"/lender/decline/{loan_id}", lender.headers, {"reason": "Changed my mind"}),
                ("PUT", f"/lender/accept/{loan_id}", lender.headers, ACH),
            ],
        )

        answers = {outcome(decline), outcome(accept)}
        loan = assert_whole(borrower, loan_id)
        [mine] = [p for p in loan["participants"] if p["email"] == lender.email]
        if mine["status"] == "ACCEPTED":
            assert answers == {200, "ALREADY_ACCEPTED"} and outcome(accept) == 200
            assert loan["total_funded"] == 400
        else:
            assert mine["status"] == "DECLINED" and outcome(decline) == 200
            assert outcome(accept) == "INVITATION_DECLINED" and loan["total_funded"] == 0
        types = [e["type"] for e in borrower.events(loan_id)]
        assert types.count("INVITATION_ACCEPTED") + types.count("INVITATION_DECLINED") == 1


def test_expiry_racing_the_last_accept(base_url, register, later_services) -> None:
    """The expiry job, its clock past the deadline, against the acceptance that completes the
    loan, made while the deadline has not passed: ACTIVE or EXPIRED, never a torn loan."""
    for _ in range(ROUNDS):
        borrower, a, b = register("borrower"), register("lender-a"), register("lender-b")
        loan_id = borrower.create_loan([(a.email, 400), (b.email, 600)], amount=1000, funding_deadline=soon())[
            "loan_id"
        ]
        assert a.accept(loan_id).status_code == 200

        response = _race_with(
            base_url, ("PUT", f"/lender/accept/{loan_id}", b.headers, ACH), later_services.expiry.expire_due
        )

        [stored] = later_services.store.unit_of_work().loans.get_many({loan_id})
        loan = assert_whole(borrower, loan_id)
        if stored.status == "ACTIVE":
            assert outcome(response) == 200 and loan["total_funded"] == 1000
        else:
            assert stored.status == "EXPIRED" and outcome(response) == "LOAN_EXPIRED"
            assert loan["total_funded"] == 0
            assert {p["email"]: p["status"] for p in loan["participants"]} == {a.email: "RELEASED", b.email: "CLOSED"}


def test_twenty_concurrent_invitations_never_exceed_the_lender_limit(base_url, register) -> None:
    borrower = register("borrower")
    room = 10
    first = [(unique_email("invited"), 10) for _ in range(MAX_LENDERS - room)]
    loan_id = borrower.create_loan(first, amount=300)["loan_id"]

    responses = _race(
        base_url,
        [
            ("POST", f"/loans/{loan_id}/invitations", borrower.headers,
             {"lenders": [{"email": unique_email("more"), "contribution_amount": 10}]})
            for _ in range(20)
        ],
    )  # fmt: skip

    assert Counter(outcome(r) for r in responses) == {201: room, "INVALID_INPUT": 20 - room}
    loan = assert_whole(borrower, loan_id)
    assert len(loan["participants"]) == MAX_LENDERS
    invited = [e for e in borrower.events(loan_id) if e["type"] == "LENDERS_INVITED"]
    assert len(invited) == room
