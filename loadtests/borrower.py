"""The borrowers of the load scenario: they create over-subscribed loans, some with a deadline
that passes during the run, watch them fill, invite more lenders after declines, and cancel a
share of them at a random moment (racing the last acceptances and the deadline), and repay
those that turn ACTIVE (`repayer.py`)."""

from __future__ import annotations

import random
import time
import uuid
from decimal import Decimal

import gevent
import gevent.pool
from locust import between, task
from locust.exception import StopUser

from loadtests.api_user import verified_token
from loadtests.invariants import CLOSED_LOAN, FUNDED_LOAN, accepted_sum, check_history, check_loan, money
from loadtests.keyed import changing
from loadtests.repayer import RepayingUser
from loadtests.scenario import (
    MAX_LENDERS_PER_LOAN,
    PASSWORD,
    borrower_email,
    loan_request,
    more_lenders,
    short_deadline,
)
from loadtests.users import RunState, body, log, outcome, planned, unexpected, write_record

REASONS = [None, {}, {"reason": "Found the money elsewhere."}]


class BorrowerUser(RepayingUser):
    """Registers, creates loans and watches them. A borrower asks for a new loan only while
    fewer of theirs than `--open-loans` are still raising funds (and younger than
    `--patience`), so the few open loans draw every invited lender at once."""

    weight = 1
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        if not RunState.pool:
            raise StopUser()
        index = next(RunState.next_borrower)
        self.email = borrower_email(RunState.run_id, index, uuid.uuid4().hex[:6])
        registration = {"name": f"Load Borrower {index}", "email": self.email, "password": PASSWORD}
        with changing(self.client, self.options, "POST", "/auth/register", json=registration) as response:
            if response.status_code != 201:
                unexpected(response)
                raise StopUser()
            registered = body(response)
        token = verified_token(self.client, self.options, self.email, registered)
        if token is None:
            raise StopUser()
        self.token = token
        self.loans: list[str] = []
        self.repaying = set()  # ACTIVE loans, until seen COMPLETED
        self.open: dict[str, float] = {}  # loan id -> when it was created (monotonic)
        self.invited: dict[str, set[str]] = {}  # loan id -> every email it invited
        self.replaced: dict[str, set[str]] = {}  # loan id -> the lenders who declined and were replaced
        self.cancels = gevent.pool.Group()  # planned, not yet begun
        self.cancelling = gevent.pool.Group()  # begun: their answer is counted, so they finish
        self.create_loan()

    def on_stop(self) -> None:
        if hasattr(self, "cancels"):
            self.cancels.kill(block=False)
            self.cancelling.join(timeout=self.network_timeout * 2)

    @task(3)
    def create_loan(self) -> None:
        options = self.options
        waiting = [i for i, at in self.open.items() if time.monotonic() - at < options.patience]
        if len(waiting) >= options.open_loans:
            return
        # A loan meant to fill (and be repaid) invites only lenders who answer, offering twice
        # as much, and is neither given a short deadline nor cancelled.
        fill = planned("fill", options.fill_share)
        invitees, offered = (RunState.active, 2 * options.oversubscription) if fill else (RunState.pool, None)
        request, amount = loan_request(invitees, options.lenders_per_loan, offered or options.oversubscription)
        short = RunState.short_deadlines and options.min_funding_window > 0 and not fill
        if short and planned("short deadline", options.short_deadline_share):
            request["funding_deadline"] = short_deadline(options.min_funding_window)
        refused, key = False, str(uuid.uuid4())
        # Written before it is sent: a run may stop with its answer still on the way, and the
        # checker counts each borrower's loans against the keys of the creates they sent.
        write_record({"borrower_email": self.email, "create_key": key})
        with self.changing("POST", "/loans", json=request, key=key) as response:
            answer = body(response)
            if response.status_code == 400 and (answer.get("details") or {}).get("field") == "funding_deadline":
                # The stage's shortest window is longer than --min-funding-window: go on without.
                response.success()
                RunState.short_deadlines = False
                RunState.outcomes["short deadlines refused"] += 1
                log.warning("the API refused a short funding deadline; the run goes on without: %s", answer)
                refused = True
            elif response.status_code != 201:
                unexpected(response)
                return
            else:
                invited = [lender["email"] for lender in request["lenders"]]
                violations = check_loan(answer, {"amount": amount, "lenders": invited})
                if violations or answer.get("status") != "PENDING" or answer.get("total_funded") != 0:
                    response.failure(f"not a fresh PENDING loan: {[str(v) for v in violations[:1]]}")
                if "loan_id" not in answer:
                    return
        if refused:  # at once, and now without a deadline
            self.create_loan()
            return
        loan_id = answer["loan_id"]
        self.loans.append(loan_id)
        self.open[loan_id] = time.monotonic()
        self.invited[loan_id] = set(invited)
        self.replaced[loan_id] = set()
        RunState.outcomes["loans created"] += 1
        if "funding_deadline" in request:
            RunState.outcomes["loans created with a short deadline"] += 1
        if not fill and planned("cancel", options.cancel_share):
            delay = random.uniform(0.5, options.cancel_within)
            self.cancels.add(gevent.spawn_later(delay, self.cancel, loan_id))
        write_record(
            {
                "loan_id": loan_id,
                "amount": str(amount),
                "lenders": invited,
                "borrower_email": self.email,
                "borrower_password": PASSWORD,
            }
        )

    def cancel(self, loan_id: str) -> None:
        """In its own greenlet, at the moment planned: whatever the loan's state by then."""
        self.cancels.discard(gevent.getcurrent())
        self.cancelling.add(gevent.getcurrent())
        try:
            with self.changing(
                "POST",
                f"/loans/{loan_id}/cancel",
                name="/loans/[loan_id]/cancel",
                loan_id=loan_id,
                **({"json": reason} if (reason := random.choice(REASONS)) is not None else {}),
            ) as response:
                if (
                    outcome(response, "cancel", 200, "CANCELLED") == "CANCELLED"
                    and body(response).get("status") != "CANCELLED"
                ):
                    response.failure("200 without a CANCELLED loan")
        except Exception:  # not under Locust's task runner, so counted here (and fails the run)
            log.exception("cancel of %s failed", loan_id)
            RunState.outcomes["scenario errors"] += 1

    @task(6)  # a borrower refreshes the page of a loan raising funds more than anything else
    def watch_a_loan(self) -> None:
        """Reads taken while lenders race: the loan's own figures must hold exactly; the
        participants may be newer than the loan (two reads), never older. After declines that
        leave the loan short, invite more lenders."""
        if not self.loans:
            return
        loan_id = random.choice(sorted(self.open) or self.loans[-5:])
        with self.client.get(
            f"/loans/{loan_id}", headers=self.auth, name="/loans/[loan_id]", catch_response=True
        ) as response:
            if response.status_code != 200:
                unexpected(response)
                return
            loan = body(response)
            if loan.get("status") != "PENDING":
                self.open.pop(loan_id, None)
                self.note_status(loan_id, loan.get("status"))
            violations = check_loan(loan, settled=False)
            if violations:
                RunState.outcomes["invariant violations in flight"] += len(violations)
                response.failure(f"invariant broken: {violations[0].rule}")
                return
            if accepted_sum(loan) != Decimal(str(loan["total_funded"])):
                RunState.outcomes["torn reads"] += 1
        if loan["status"] == "PENDING":
            self.invite_after_declines(loan)

    def invite_after_declines(self, loan: dict) -> None:
        """For each lender who declined since the last look, invite another pool lender with
        the same offer (while the loan has room)."""
        loan_id = loan["loan_id"]
        declined = [
            p for p in loan["participants"] if p["status"] == "DECLINED" and p["email"] not in self.replaced[loan_id]
        ]
        room = MAX_LENDERS_PER_LOAN - len(loan["participants"])
        offers = [money(p["contribution_amount"]) for p in declined[:room]]
        lenders = more_lenders(RunState.pool, self.invited[loan_id], offers)
        if not lenders:
            return
        with self.changing(
            "POST",
            f"/loans/{loan_id}/invitations",
            json={"lenders": lenders},
            name="/loans/[loan_id]/invitations",
            loan_id=loan_id,
        ) as response:
            invited = outcome(response, "invite", 201, "INVITED") == "INVITED"
        self.replaced[loan_id].update(p["email"] for p in declined[: len(lenders)])
        if invited:
            emails = [lender["email"] for lender in lenders]
            self.invited[loan_id].update(emails)
            write_record({"loan_id": loan_id, "invited": emails})

    @task(1)
    def read_history(self) -> None:
        """The history as it grows: numbered 1..n, starting with LOAN_CREATED, each event
        taking the loan from where the one before left it (replay is checked after the run)."""
        if not self.loans:
            return
        loan_id = random.choice(self.loans[-5:])
        with self.client.get(
            f"/loans/{loan_id}/events?limit=100",
            headers=self.auth,
            name="/loans/[loan_id]/events",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                unexpected(response)
                return
            violations = check_history(loan_id, body(response).get("items", []))
            if violations:
                RunState.outcomes["history violations in flight"] += len(violations)
                response.failure(f"history broken: {violations[0].rule}")

    @task(2)
    def my_loans(self) -> None:
        page = self.get_json("/loans/my-loans?limit=20", "/loans/my-loans")
        for loan in (page or {}).get("items", []):
            if loan.get("status") in CLOSED_LOAN | FUNDED_LOAN:
                self.open.pop(loan.get("loan_id"), None)
                self.note_status(loan["loan_id"], loan["status"])

    @task(1)
    def dashboard(self) -> None:
        self.get_json("/user/dashboard", "/user/dashboard")

    @task(1)
    def log_in_again(self) -> None:
        self.login(self.email)
