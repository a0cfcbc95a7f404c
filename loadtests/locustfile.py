"""Loan lifecycle load: borrowers create over-subscribed loans inviting lenders from a shared
pool, many lenders race to accept the same loans, some decline, borrowers cancel some loans,
and some loans reach their deadline during the run.

    locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8000 -u 60 -r 20 -t 60s \
        --record-file results/loans.jsonl --retry-file results/retries.jsonl \
        --summary-file results/summary.json --min-funding-window 5 --retry-share 0.1

(`make load` runs this against a local multi-worker stack and then checks the invariants.)

Everything is made through the API, so `--host` may be a deployed stack:
- at test start, a pool of lender accounts is registered (`--lender-pool`, by default one per
  lender user plus `--idle-lenders` more that never log in: invitees who never answer), with
  emails derived from `--run-id`;
- every account verifies its email as a person would: with the token from the email the
  local stack's SES received (`--mailbox`, the local AWS endpoint), or, against a deployed
  non-prod stage, by registering at the domain the stage verifies on registration
  (`AutoVerifyEmailDomain=loadtest.example.com`, README);
- borrowers (`borrower.py`) invite up to 40 pool lenders per loan, offering `--oversubscription`
  × the amount; `--short-deadline-share` of loans get a deadline a few seconds past
  `--min-funding-window` (the API's shortest; 0: none, and none either once the API refuses
  one); `--cancel-share` of loans are cancelled at a random moment (the shares spread
  evenly over the other loans); `--fill-share` invite only lenders who log in, offering twice
  as much, and are neither cancelled nor given a short deadline, so that they fill and are
  repaid however idle the pool; after declines, a
  borrower invites other lenders in their place; borrowers repay the loans that turn ACTIVE
  (`repayer.py`), completing some;
- lenders (`lender.py`) answer the oldest still-PENDING loan on their invitation list, so the
  invited lenders converge on the same loans and race for them; `--decline-share` of the
  answers are declines;
- every changing request (register, verify, create, accept, decline, cancel, invite, repay) carries
  an Idempotency-Key, and `--retry-share` of them are sent again with it after a lost answer,
  `--concurrent-share` of those while the first is still running (`keyed.py`); both answers
  are recorded in `--retry-file` for the checker.

A 409 that is the expected outcome of a race (`users.EXPECTED_CONFLICTS`: LOAN_FULLY_FUNDED,
ALREADY_ACCEPTED, INVITATION_DECLINED, LOAN_EXPIRED, INVALID_STATE, each where it can happen)
counts as a success, and so does the 400 INVALID_AMOUNT refusing a repayment above what is
outstanding; any 5xx, or a loan or history read that breaks an invariant, is a
failure. Every loan created and every later invitation is recorded (JSON lines in
`--record-file`, with the borrower's credentials) so the checker can read them back through
the API after the run. At exit the process writes `--summary-file` and exits non-zero on any
5xx, user-code error, or a failure ratio or p95 over `--max-failure-rate` / `--max-p95-ms`.

Run it in one Locust process (the default): the pool, the outcome counters and the record
file live in that process. One process drives far more than the local stack can serve.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import gevent.pool
from locust import events
from locust.clients import HttpSession
from locust.runners import WorkerRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtests.api_user import verified_token
from loadtests.borrower import BorrowerUser
from loadtests.keyed import changing
from loadtests.lender import LenderUser
from loadtests.scenario import PASSWORD, lender_email
from loadtests.users import RunState, body, log, unexpected

__all__ = ["BorrowerUser", "LenderUser"]  # the user classes Locust runs


def _share(value: str) -> float:
    share = float(value)
    if not 0 <= share <= 1:
        raise ValueError(f"not a share between 0 and 1: {value}")
    return share


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--run-id", default="", help="names the lender pool (default: random)")
    parser.add_argument(
        "--lender-pool", type=int, default=0, help="lender accounts to register (default: from the users)"
    )
    parser.add_argument(
        "--idle-lenders", type=_share, default=0.3, help="share of the pool that never logs in (default 0.3)"
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
    parser.add_argument(
        "--patience", type=float, default=20, help="seconds a borrower waits on an open loan before asking anew"
    )
    parser.add_argument("--borrower-weight", type=int, default=1, help="borrowers per 9 lenders (default 1)")
    parser.add_argument(
        "--min-funding-window",
        type=float,
        default=0,
        help="the API's shortest funding window in seconds (MIN_FUNDING_WINDOW_SECONDS); 0: no short deadlines",
    )
    parser.add_argument(
        "--short-deadline-share", type=_share, default=0.3, help="share of loans given a short deadline"
    )
    parser.add_argument("--cancel-share", type=_share, default=0.15, help="share of loans their borrower cancels")
    parser.add_argument(
        "--fill-share",
        type=_share,
        default=0,
        help="share of loans inviting only lenders who log in, for twice the oversubscription, never cancelled "
        "nor given a short deadline: loans that fill (and are repaid) however idle the pool (default 0)",
    )
    parser.add_argument(
        "--cancel-within",
        type=float,
        default=8,
        help="a cancel comes at a random moment up to this many seconds after the loan's creation (default 8)",
    )
    parser.add_argument("--decline-share", type=_share, default=0.1, help="share of answers that are declines")
    parser.add_argument(
        "--retry-share", type=_share, default=0.1, help="share of changing requests sent twice with their key"
    )
    parser.add_argument(
        "--concurrent-share", type=_share, default=0.5, help="share of those retries sent while the first still runs"
    )
    parser.add_argument("--retry-file", default="", help="JSON lines: every request sent twice, both answers")
    parser.add_argument("--record-file", default="", help="JSON lines: every loan created, every later invitation")
    parser.add_argument("--summary-file", default="", help="JSON: outcome counts and verdict")
    parser.add_argument(
        "--max-failure-rate", type=float, default=0.01, help="exit 1 if failures / requests exceeds this"
    )
    parser.add_argument("--max-p95-ms", type=float, default=0, help="exit 1 if p95 exceeds this (0: no limit)")
    parser.add_argument(
        "--mailbox", default="", help="the local stack's AWS endpoint, whose SES outbox holds the verification links"
    )


@events.init.add_listener
def _weights(environment, **kwargs) -> None:
    if environment.parsed_options is not None:
        BorrowerUser.weight = environment.parsed_options.borrower_weight


# -- test start: the lender pool --------------------------------------------------------


@events.test_start.add_listener
def _register_pool(environment, **kwargs) -> None:
    if environment.parsed_options is None or not environment.host:
        return
    options = environment.parsed_options
    RunState.run_id = options.run_id or uuid.uuid4().hex[:8]
    RunState.outcomes.clear()
    RunState.short_deadlines = True
    RunState.plans.clear()
    for path, slot in ((options.record_file, "record"), (options.retry_file, "retries")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            setattr(RunState, slot, open(path, "a", encoding="utf-8"))
    active = _expected_lenders(environment)
    size = options.lender_pool or max(active, round(active / (1 - min(options.idle_lenders, 0.9))))
    session = HttpSession(base_url=environment.host, request_event=environment.events.request, user=None)

    def register(index: int) -> str | None:
        email = lender_email(RunState.run_id, index)
        registration = {"name": f"Load Lender {index}", "email": email, "password": PASSWORD}
        with changing(
            session, options, "POST", "/auth/register", json=registration, name="/auth/register [lender pool]"
        ) as response:
            if response.status_code == 409 and body(response).get("error") == "USER_EXISTS":
                response.success()  # another process of this run registered (and verifies) it
                return email
            if response.status_code != 201:
                unexpected(response)
                return None
            registered = body(response)
        return email if verified_token(session, options, email, registered) else None

    registered = gevent.pool.Pool(10).map(register, range(size))
    RunState.pool = [email for email in registered if email]
    RunState.active = RunState.pool[: min(active, len(RunState.pool))]
    log.info(
        "run %s: %d of %d pool lenders registered, %d of them active",
        RunState.run_id,
        len(RunState.pool),
        size,
        len(RunState.active),
    )


def _expected_lenders(environment) -> int:
    users = environment.parsed_options.num_users or 1
    weights = {cls: cls.weight for cls in environment.user_classes}
    share = weights.get(LenderUser, 0) / (sum(weights.values()) or 1)
    return max(2, round(users * share))


@events.test_stop.add_listener
def _close_record(environment, **kwargs) -> None:
    for slot in ("record", "retries"):
        if getattr(RunState, slot):
            getattr(RunState, slot).close()
            setattr(RunState, slot, None)


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
    for counter, what in (
        ("invariant violations in flight", "invariant violations seen in loans read during the run"),
        ("history violations in flight", "broken histories seen during the run"),
        ("accepted twice", "double submits were accepted twice"),
        ("replay violations in flight", "broken replays of requests retried with their key"),
        ("scenario errors", "errors in the scenario code outside Locust's tasks"),
    ):
        if RunState.outcomes[counter]:
            reasons.append(f"{RunState.outcomes[counter]} {what}")
    environment.process_exit_code = 1 if reasons else 0
    summary = {
        "run_id": RunState.run_id,
        "host": environment.host,
        "lender_pool": len(RunState.pool),
        "active_lenders": len(RunState.active),
        "short_deadlines": RunState.short_deadlines and options.min_funding_window > 0,
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
