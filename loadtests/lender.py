"""The lenders of the load scenario: each logs in to a pool account and answers the oldest loan
still open on its invitation list, so every lender invited to a new loan goes for it at about
the same moment; a share of them decline instead, and now and then one answers a loan it saw
before, which may have filled, been cancelled or expired since."""

from __future__ import annotations

import random
from urllib.parse import quote

from locust import between, task
from locust.exception import StopUser

from loadtests.api_user import ApiUser
from loadtests.scenario import ACH
from loadtests.users import CLOSED_LOAN, RunState, body, outcome, unexpected

PENDING_PAGE = 100
PENDING_MAX_PAGES = 5
REMEMBERED = 30  # loans a lender may come back to
REASONS = [None, {}, {"reason": "Not this quarter."}]


class LenderUser(ApiUser):
    weight = 9
    wait_time = between(0.1, 0.6)

    def on_start(self) -> None:
        if not RunState.active:
            raise StopUser()
        self.email = RunState.active[next(RunState.next_lender) % len(RunState.active)]
        if not self.login(self.email):
            raise StopUser()
        self.accepted: list[str] = []
        self.seen: dict[str, None] = {}  # loan ids invited to, oldest first

    def open_invitations(self) -> tuple[list[dict], list[dict]]:
        """(invitations to loans still PENDING, to loans already ACTIVE). The list keeps
        invitations to loans others filled, so page on until an open one turns up."""
        open_, closed, cursor = [], [], None
        for _ in range(PENDING_MAX_PAGES):
            query = f"/lender/pending?limit={PENDING_PAGE}"
            if cursor:
                query += f"&cursor={quote(cursor, safe='')}"
            page = self.get_json(query, "/lender/pending")
            if page is None:
                break
            for item in page["items"]:
                (open_ if item["loan"]["status"] == "PENDING" else closed).append(item)
                self.seen.pop(item["loan_id"], None)
                self.seen[item["loan_id"]] = None
            cursor = page.get("next_cursor")
            if open_ or not cursor:
                break
        while len(self.seen) > REMEMBERED:
            del self.seen[next(iter(self.seen))]
        return open_, closed

    @task(8)
    def answer(self) -> None:
        open_, closed = self.open_invitations()
        if open_:
            oldest = min(open_, key=lambda item: item["loan"]["created_at"])
            choice = oldest if random.random() < 0.75 else random.choice(open_)
        elif closed and random.random() < 0.3:
            choice = random.choice(closed)  # a loan someone else filled: expect 409
        else:
            return
        loan_id = choice["loan_id"]
        if random.random() < self.options.decline_share:
            self.decline(loan_id)
            return
        if self.accept(loan_id) == "ACCEPTED" and random.random() < 0.1:  # a double submit must not fund twice
            if self.accept(loan_id) == "ACCEPTED":
                RunState.outcomes["accepted twice"] += 1

    @task(1)
    def answer_again(self) -> None:
        """A loan seen on the list before: answered, filled, cancelled or expired since, or
        still open; whatever the answer, it must be one the contract names for the race."""
        if self.seen:
            self.accept(random.choice(list(self.seen)))

    def accept(self, loan_id: str) -> str:
        with self.changing(
            "PUT", f"/lender/accept/{loan_id}", json=ACH, name="/lender/accept/[loan_id]", loan_id=loan_id
        ) as response:
            result = outcome(response, "accept", 200, "ACCEPTED")
            if result == "ACCEPTED":
                participation = body(response).get("participation", {})
                if participation.get("status") != "ACCEPTED" or not participation.get("funded_amount"):
                    response.failure("200 without a funded participation")
                self.accepted.append(loan_id)
        return result

    def decline(self, loan_id: str) -> None:
        reason = random.choice(REASONS)
        with self.changing(
            "PUT",
            f"/lender/decline/{loan_id}",
            name="/lender/decline/[loan_id]",
            loan_id=loan_id,
            **({"json": reason} if reason is not None else {}),
        ) as response:
            if outcome(response, "decline", 200, "DECLINED") == "DECLINED":
                if body(response).get("participation", {}).get("status") != "DECLINED":
                    response.failure("200 without a DECLINED participation")

    @task(2)
    def dashboard(self) -> None:
        self.get_json("/user/dashboard", "/user/dashboard")

    @task(1)
    def look_at_an_accepted_loan(self) -> None:
        """An accepted lender sees exactly its own participation: ACCEPTED, or RELEASED once
        the loan was cancelled or expired."""
        if not self.accepted:
            return
        with self.client.get(
            f"/loans/{random.choice(self.accepted)}", headers=self.auth, name="/loans/[loan_id]", catch_response=True
        ) as response:
            if response.status_code != 200:
                unexpected(response)
                return
            loan = body(response)
            expected = ["RELEASED"] if loan.get("status") in CLOSED_LOAN else ["ACCEPTED"]
            if [p.get("status") for p in loan.get("participants", [])] != expected:
                response.failure(f"an accepted lender of a {loan.get('status')} loan does not see {expected}")
