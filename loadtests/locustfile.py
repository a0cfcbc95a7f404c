"""Loan-acceptance load: borrowers create over-subscribed loans inviting lenders from a shared
pool, and many lenders race to accept the same loans.

    locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000 -u 60 -r 20 -t 60s \
        --record-file results/loans.jsonl --summary-file results/summary.json

(`make load` runs this against a local multi-worker stack and then checks the invariants.)

Everything is made through the API, so `--host` may be a deployed stack:
- at test start, a pool of lender accounts is registered (`--lender-pool`, by default one per
  lender user), with emails derived from `--run-id`;
- every account verifies its email as a person would: with the token from the email the
  local stack's SES received (`--mailbox`, the local AWS endpoint), or, against a deployed
  non-prod stage, by registering at the domain the stage verifies on registration
  (`AutoVerifyEmailDomain=loadtest.example.com`, README);
- each LenderUser logs in to one pool account; each BorrowerUser registers its own account;
- borrowers invite up to 40 pool lenders per loan, offering `--oversubscription` × the amount,
  and lenders accept the oldest still-PENDING loan on their invitation list, so the invited
  lenders converge on the same loans and race for them.

A 409 LOAN_FULLY_FUNDED or ALREADY_ACCEPTED is an expected outcome of a race and counts as a
success; any 5xx, or a loan read that breaks a funding invariant, is a failure. Every loan
created is recorded (JSON lines in `--record-file`, with the borrower's credentials) so the
checker can read it back through the API after the run. At exit the process writes
`--summary-file` and exits non-zero on any 5xx, user-code error, or a failure ratio or p95
over `--max-failure-rate` / `--max-p95-ms`.

Run it in one Locust process (the default): the pool, the outcome counters and the record
file live in that process. One process drives far more than the local stack can serve.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import sys
import urllib.request
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import gevent.pool
from locust import FastHttpUser, between, events, task
from locust.clients import HttpSession
from locust.exception import StopUser
from locust.runners import WorkerRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from devstack.mailbox import PATH as MAILBOX_PATH
from devstack.mailbox import token_in
from loadtests.invariants import accepted_sum, check_loan
from loadtests.scenario import ACH, PASSWORD, borrower_email, lender_email, loan_request

log = logging.getLogger("loadtests")

EXPECTED_CONFLICTS = {"LOAN_FULLY_FUNDED", "ALREADY_ACCEPTED"}
PENDING_PAGE = 100
PENDING_MAX_PAGES = 5


class RunState:
    """What this Locust process shares between its users."""

    run_id = ""
    pool: list[str] = []
    next_lender = itertools.count()
    next_borrower = itertools.count()
    record = None
    outcomes: Counter = Counter()


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--run-id", default="", help="names the lender pool (default: random)")
    parser.add_argument(
        "--lender-pool", type=int, default=0, help="lender accounts to register (default: one per lender user)"
    )
    parser.add_argument(
        "--lenders-per-loan", type=int, default=40, help="most pool lenders a loan invites (at most 40)"
    )
    parser.add_argument("--oversubscription", type=float, default=3.0, help="offered contributions / loan amount")
    parser.add_argument(
        "--open-loans",
        type=int,
        default=1,
        help="a borrower asks for a new loan only while fewer of theirs are unfunded",
    )
    parser.add_argument("--record-file", default="", help="JSON lines: every loan created")
    parser.add_argument("--summary-file", default="", help="JSON: outcome counts and verdict")
    parser.add_argument(
        "--max-failure-rate", type=float, default=0.01, help="exit 1 if failures / requests exceeds this"
    )
    parser.add_argument("--max-p95-ms", type=float, default=0, help="exit 1 if p95 exceeds this (0: no limit)")
    parser.add_argument(
        "--mailbox", default="", help="the local stack's AWS endpoint, whose SES outbox holds the verification links"
    )


def _json(response) -> dict:
    try:
        body = json.loads(response.text or "", parse_float=Decimal)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _unexpected(response, what: str = "") -> None:
    """Mark a response a failure; 5xx and no-answer are told apart in the message (the
    summary counts the 5xx)."""
    code = _json(response).get("error", "")
    if response.status_code >= 500:
        response.failure(f"5xx: HTTP {response.status_code} {code}")
    elif response.status_code == 0:
        response.failure(f"no response: {response.error!r}"[:200])
    else:
        response.failure(f"unexpected HTTP {response.status_code} {code} {what}".strip())


# -- verified accounts ------------------------------------------------------------------


def _emailed_token(mailbox: str, email: str) -> str | None:
    """The newest verification token sent to `email`, from the local stack's outbox."""
    with urllib.request.urlopen(f"{mailbox}{MAILBOX_PATH}?to={quote(email)}", timeout=30) as answer:
        return token_in(json.load(answer)["emails"])


def _verified_token(client, options, email: str, registered: dict) -> str | None:
    """The account's token once its email is verified (None, and a failure, otherwise)."""
    if registered.get("user", {}).get("email_verified"):
        return registered["token"]  # the stage verifies this domain on registration
    token = _emailed_token(options.mailbox, email) if options.mailbox else None
    if token is None:
        log.error(
            "%s is not verified: run against the local stack (--mailbox) or a stage deployed "
            "with AutoVerifyEmailDomain=loadtest.example.com",
            email,
        )
        return None
    with client.post("/auth/verify-email", json={"token": token}, catch_response=True) as response:
        if response.status_code == 200:
            return _json(response)["token"]
        _unexpected(response)
        return None


# -- test start: the lender pool --------------------------------------------------------


@events.test_start.add_listener
def _register_pool(environment, **kwargs) -> None:
    if environment.parsed_options is None or not environment.host:
        return
    options = environment.parsed_options
    RunState.run_id = options.run_id or uuid.uuid4().hex[:8]
    RunState.outcomes.clear()
    if options.record_file:
        Path(options.record_file).parent.mkdir(parents=True, exist_ok=True)
        RunState.record = open(options.record_file, "a", encoding="utf-8")
    size = options.lender_pool or _expected_lenders(environment)
    session = HttpSession(base_url=environment.host, request_event=environment.events.request, user=None)

    def register(index: int) -> str | None:
        email = lender_email(RunState.run_id, index)
        body = {"name": f"Load Lender {index}", "email": email, "password": PASSWORD}
        with session.post(
            "/auth/register", json=body, name="/auth/register [lender pool]", catch_response=True
        ) as response:
            if response.status_code == 409 and _json(response).get("error") == "USER_EXISTS":
                response.success()  # another process of this run registered (and verifies) it
                return email
            if response.status_code != 201:
                _unexpected(response)
                return None
            registered = _json(response)
        return email if _verified_token(session, options, email, registered) else None

    registered = gevent.pool.Pool(10).map(register, range(size))
    RunState.pool = [email for email in registered if email]
    log.info("run %s: %d of %d pool lenders registered", RunState.run_id, len(RunState.pool), size)


def _expected_lenders(environment) -> int:
    users = environment.parsed_options.num_users or 1
    weights = {cls: cls.weight for cls in environment.user_classes}
    share = weights.get(LenderUser, 0) / (sum(weights.values()) or 1)
    return max(2, round(users * share))


@events.test_stop.add_listener
def _close_record(environment, **kwargs) -> None:
    if RunState.record:
        RunState.record.close()
        RunState.record = None


# -- users ------------------------------------------------------------------------------


class ApiUser(FastHttpUser):
    abstract = True
    network_timeout = 30.0
    connection_timeout = 10.0
    token = ""

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def login(self, email: str) -> bool:
        with self.client.post(
            "/auth/login", json={"email": email, "password": PASSWORD}, catch_response=True
        ) as response:
            if response.status_code == 200:
                self.token = _json(response)["token"]
                return True
            _unexpected(response)
            return False

    def get_json(self, path: str, name: str) -> dict | None:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as response:
            if response.status_code == 200:
                return _json(response)
            _unexpected(response)
            return None


class BorrowerUser(ApiUser):
    """Registers, creates over-subscribed loans, and watches them fill. A borrower asks for
    a new loan only once their open ones are funded (`--open-loans`), so the few open loans
    draw every invited lender at once."""

    weight = 1
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        if not RunState.pool:
            raise StopUser()
        index = next(RunState.next_borrower)
        self.email = borrower_email(RunState.run_id, index, uuid.uuid4().hex[:6])
        body = {"name": f"Load Borrower {index}", "email": self.email, "password": PASSWORD}
        with self.client.post("/auth/register", json=body, catch_response=True) as response:
            if response.status_code != 201:
                _unexpected(response)
                raise StopUser()
            registered = _json(response)
        token = _verified_token(self.client, self.environment.parsed_options, self.email, registered)
        if token is None:
            raise StopUser()
        self.token = token
        self.loans: list[str] = []
        self.open: set[str] = set()
        self.create_loan()

    @task(3)
    def create_loan(self) -> None:
        options = self.environment.parsed_options
        if len(self.open) >= options.open_loans:
            return
        body, amount = loan_request(RunState.pool, options.lenders_per_loan, options.oversubscription)
        with self.client.post("/loans", json=body, headers=self.auth, catch_response=True) as response:
            if response.status_code != 201:
                _unexpected(response)
                return
            loan = _json(response)
            invited = [lender["email"] for lender in body["lenders"]]
            violations = check_loan(loan, {"amount": amount, "lenders": invited})
            if violations or loan.get("status") != "PENDING" or loan.get("total_funded") != 0:
                response.failure(f"not a fresh PENDING loan: {[str(v) for v in violations[:1]]}")
            if "loan_id" not in loan:
                return
        self.loans.append(loan["loan_id"])
        self.open.add(loan["loan_id"])
        RunState.outcomes["loans_created"] += 1
        if RunState.record:
            RunState.record.write(
                json.dumps(
                    {
                        "loan_id": loan["loan_id"],
                        "amount": str(amount),
                        "lenders": invited,
                        "borrower_email": self.email,
                        "borrower_password": PASSWORD,
                    }
                )
                + "\n"
            )
            RunState.record.flush()

    @task(4)
    def watch_a_loan(self) -> None:
        """Reads taken while lenders race: the loan's own figures must hold exactly; the
        participants may be newer than the loan (two reads), never older."""
        if not self.loans:
            return
        loan_id = random.choice(sorted(self.open) or self.loans[-5:])
        with self.client.get(
            f"/loans/{loan_id}", headers=self.auth, name="/loans/[loan_id]", catch_response=True
        ) as response:
            if response.status_code != 200:
                _unexpected(response)
                return
            loan = _json(response)
            if loan.get("status") == "ACTIVE":
                self.open.discard(loan_id)
            violations = check_loan(loan, settled=False)
            if violations:
                RunState.outcomes["invariant_violations_in_flight"] += len(violations)
                response.failure(f"invariant broken: {violations[0].rule}")
            elif accepted_sum(loan) != Decimal(str(loan["total_funded"])):
                RunState.outcomes["torn_reads"] += 1

    @task(2)
    def my_loans(self) -> None:
        page = self.get_json("/loans/my-loans?limit=20", "/loans/my-loans")
        for loan in (page or {}).get("items", []):
            if loan.get("status") == "ACTIVE":
                self.open.discard(loan.get("loan_id"))

    @task(1)
    def dashboard(self) -> None:
        self.get_json("/user/dashboard", "/user/dashboard")

    @task(1)
    def log_in_again(self) -> None:
        self.login(self.email)


class LenderUser(ApiUser):
    """Logs in to a pool account and accepts the oldest loan still open on its invitation
    list: every lender invited to a new loan goes for it at about the same moment."""

    weight = 9
    wait_time = between(0.1, 0.6)

    def on_start(self) -> None:
        if not RunState.pool:
            raise StopUser()
        self.email = RunState.pool[next(RunState.next_lender) % len(RunState.pool)]
        if not self.login(self.email):
            raise StopUser()
        self.accepted: list[str] = []

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
            cursor = page.get("next_cursor")
            if open_ or not cursor:
                break
        return open_, closed

    @task(8)
    def accept(self) -> None:
        open_, closed = self.open_invitations()
        if open_:
            oldest = min(open_, key=lambda item: item["loan"]["created_at"])
            choice = oldest if random.random() < 0.75 else random.choice(open_)
        elif closed and random.random() < 0.3:
            choice = random.choice(closed)  # a loan someone else filled: expect 409
        else:
            return
        loan_id = choice["loan_id"]
        outcome = self.accept_loan(loan_id)
        if outcome == "ACCEPTED":
            self.accepted.append(loan_id)
            if random.random() < 0.1:  # a double submit must not fund twice
                if self.accept_loan(loan_id) == "ACCEPTED":
                    RunState.outcomes["accepted_twice"] += 1

    def accept_loan(self, loan_id: str) -> str:
        with self.client.put(
            f"/lender/accept/{loan_id}",
            json=ACH,
            headers=self.auth,
            name="/lender/accept/[loan_id]",
            catch_response=True,
        ) as response:
            body = _json(response)
            if response.status_code == 200:
                outcome = "ACCEPTED"
                participation = body.get("participation", {})
                if participation.get("status") != "ACCEPTED" or not participation.get("funded_amount"):
                    response.failure("200 without a funded participation")
            elif response.status_code == 409 and body.get("error") in EXPECTED_CONFLICTS:
                outcome = body["error"]
                response.success()
            else:
                outcome = f"HTTP {response.status_code}"
                _unexpected(response)
        RunState.outcomes[f"accept {outcome}"] += 1
        return outcome

    @task(2)
    def dashboard(self) -> None:
        self.get_json("/user/dashboard", "/user/dashboard")

    @task(1)
    def look_at_an_accepted_loan(self) -> None:
        if not self.accepted:
            return
        with self.client.get(
            f"/loans/{random.choice(self.accepted)}", headers=self.auth, name="/loans/[loan_id]", catch_response=True
        ) as response:
            if response.status_code != 200:
                _unexpected(response)
                return
            participants = _json(response).get("participants", [])
            if [p.get("status") for p in participants] != ["ACCEPTED"]:
                response.failure("an accepted lender does not see exactly its own ACCEPTED participation")


# -- the verdict ------------------------------------------------------------------------


@events.quitting.add_listener
def _verdict(environment, **kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    options = environment.parsed_options
    total = environment.stats.total
    server_errors = sum(e.occurrences for e in environment.stats.errors.values() if "5xx:" in str(e.error))
    p95 = total.get_response_time_percentile(0.95) if total.num_requests else 0
    reasons = []
    if total.num_requests == 0:
        reasons.append("no requests were made")
    if server_errors:
        reasons.append(f"{server_errors} responses were 5xx")
    if total.fail_ratio > options.max_failure_rate:
        reasons.append(f"failure ratio {total.fail_ratio:.4f} > {options.max_failure_rate}")
    if options.max_p95_ms and p95 > options.max_p95_ms:
        reasons.append(f"p95 {p95} ms > {options.max_p95_ms} ms")
    if environment.runner.exceptions:
        reasons.append(f"{len(environment.runner.exceptions)} errors in the scenario code")
    if RunState.outcomes["invariant_violations_in_flight"]:
        reasons.append(
            f"{RunState.outcomes['invariant_violations_in_flight']} invariant violations "
            "seen in loans read during the run"
        )
    if RunState.outcomes["accepted_twice"]:
        reasons.append(f"{RunState.outcomes['accepted_twice']} double submits were accepted twice")
    environment.process_exit_code = 1 if reasons else 0
    summary = {
        "run_id": RunState.run_id,
        "host": environment.host,
        "lender_pool": len(RunState.pool),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "failure_ratio": round(total.fail_ratio, 6),
        "server_errors": server_errors,
        "rps": round(total.total_rps, 2),
        "p50_ms": total.get_response_time_percentile(0.5) if total.num_requests else 0,
        "p95_ms": p95,
        "p99_ms": total.get_response_time_percentile(0.99) if total.num_requests else 0,
        "outcomes": dict(RunState.outcomes),
        "ok": not reasons,
        "reasons": reasons,
    }
    for reason in reasons:
        log.error("load run failed: %s", reason)
    if options.summary_file:
        Path(options.summary_file).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
