"""`make bench`: what accepting a loan costs, and where the time goes. Not a test.

    python -m benchmarks.bench [--lenders 40] [--loans 10] [--workers 2] [--sequential 30]

In one run, against the local stack (moto's server as DynamoDB, in one process):
1. API: `--lenders` lenders race, one thread and one keep-alive connection each, for
   `--loans` over-subscribed loans over HTTP against `--workers` uvicorn workers (each loan:
   amount 1000, every lender offering 70, so 14 fill, 1 is partial and the rest get 409).
   Throughput and p50/p95/p99 of every accept request, then `--sequential` uncontended
   accepts one at a time.
2. Baseline: the same scenario on a fresh moto, with no web framework: the use case the
   `acceptLoan` handler calls, called directly (same store, KMS and DynamoDB work), from
   the same number of processes and threads. The ratio is the framework + validation + auth
   + HTTP overhead. It also counts the DynamoDB calls each accept made under contention.
3. DynamoDB (and KMS) calls per API operation, counted from boto3's events in-process, with
   each operation's warm in-process latency and how much of it was spent in those calls.
4. bcrypt at cost 12: `check_password` alone against a whole login request.

It prints the tables and writes them to results/bench-<timestamp>/report.md (and .json).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import sys
import threading
import time
import uuid
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from loadtests.scenario import ACH, PASSWORD
from loadtests.stack import DEFAULT_WORKERS, ROOT, LocalStack

AMOUNT, CONTRIBUTION = 1000, 70
# The benchmark's accounts are verified on registration (a setting meant for load runs), so
# what it measures is the acceptance race, not the verification emails.
BENCH_ENV = {"AUTO_VERIFY_EMAIL_DOMAIN": "bench.example.com"}
# Starlette's test client (imported by Connexion) warns about httpx; nothing to act on here.
QUIET = {"action": "ignore", "message": "Using `httpx` with `starlette.testclient`"}


def contribution_for(lenders: int) -> int:
    """70 for 40 lenders (2.8 × over-subscribed); more each when fewer race."""
    return max(CONTRIBUTION, -(-AMOUNT * 28 // (10 * lenders)))


BCRYPT_COST = 12


# -- measurements -----------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Race:
    """Accept requests made by one side (API or baseline) in one scenario."""

    label: str
    concurrency: int
    samples: list[tuple[float, str]] = field(default_factory=list)  # (ms, outcome)
    wall_seconds: float = 0.0
    calls: Counter = field(default_factory=Counter)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # by process role, during the run

    @property
    def latencies(self) -> list[float]:
        return [ms for ms, _ in self.samples]

    @property
    def outcomes(self) -> Counter:
        return Counter(outcome for _, outcome in self.samples)

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def accepted_per_second(self) -> float:
        return self.outcomes["ACCEPTED"] / self.wall_seconds if self.wall_seconds else 0.0

    def as_dict(self) -> dict:
        lat = self.latencies
        return {
            "label": self.label,
            "concurrency": self.concurrency,
            "requests": len(lat),
            "wall_seconds": round(self.wall_seconds, 3),
            "requests_per_second": round(self.throughput, 1),
            "accepted_per_second": round(self.accepted_per_second, 1),
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "outcomes": dict(self.outcomes),
            "aws_calls": dict(self.calls),
            "cpu_ms_per_request": {
                role: round(seconds * 1000 / len(lat), 1) for role, seconds in self.cpu_seconds.items()
            }
            if lat
            else {},
        }


class AwsCalls:
    """Counts and times every boto3 API call of this process, by `service:Operation`.
    Registered on boto3's default session, so install it before the clients are created."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()

    def install(self) -> AwsCalls:
        import boto3

        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call", self._before)
        boto3.DEFAULT_SESSION.events.register("after-call", self._after)
        return self

    def _before(self, event_name: str, **kwargs) -> None:
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.calls[f"{service}:{operation}"] += 1
        self._local.started = time.perf_counter()

    def _after(self, **kwargs) -> None:
        started = getattr(self._local, "started", None)
        if started is not None:
            with self._lock:
                self.seconds += time.perf_counter() - started

    @contextmanager
    def recording(self):
        """(calls, seconds) made inside the block, in a dict filled when it ends."""
        before_calls, before_seconds = Counter(self.calls), self.seconds
        result: dict = {}
        yield result
        result["calls"] = self.calls - before_calls
        result["seconds"] = self.seconds - before_seconds


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used so far."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


@contextmanager
def cpu_used(roles: dict[str, list[int]]):
    """CPU seconds each role's processes use inside the block, in a dict filled at its end."""
    before = {role: cpu_seconds(pids) for role, pids in roles.items()}
    used: dict[str, float] = {}
    yield used
    used.update({role: cpu_seconds(pids) - before[role] for role, pids in roles.items()})


# -- the API over HTTP ------------------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection; `call` returns (status, json, ms)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            return 0, {}, (time.perf_counter() - started) * 1000
        ms = (time.perf_counter() - started) * 1000
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {}
        return response.status, parsed, ms

    def ok(self, method: str, path: str, body: dict | None = None, token: str | None = None, expect: int = 200) -> dict:
        status, parsed, _ = self.call(method, path, body, token)
        if status != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {status} {parsed}")
        return parsed


def _outcome(status: int, body: dict) -> str:
    if status == 200:
        return "ACCEPTED"
    if status == 409:
        return body.get("error", "409")
    return f"HTTP {status}"


def _emails(tag: str, lenders: int) -> tuple[str, list[str]]:
    return (
        f"bench-borrower-{tag}@bench.example.com",
        [f"bench-lender-{tag}-{i:03d}@bench.example.com" for i in range(lenders)],
    )


def _loan_body(emails: list[str], amount: int = AMOUNT, contribution: int | None = None) -> dict:
    contribution = contribution or contribution_for(len(emails))
    return {
        "amount": amount,
        "interest_rate": 6.5,
        "term": "12 months",
        "purpose": "Benchmark",
        "lenders": [{"email": e, "contribution_amount": contribution} for e in emails],
    }


def http_setup(url: str, lenders: int, loans: int, tag: str) -> tuple[list[str], list[str]]:
    """Register a borrower and the lenders, create the loans; (lender tokens, loan ids)."""
    borrower_email, emails = _emails(tag, lenders)
    client = Http(url)
    borrower = client.ok(
        "POST", "/auth/register", {"name": "Bench Borrower", "email": borrower_email, "password": PASSWORD}, expect=201
    )["token"]

    def register(email: str) -> str:
        return Http(url).ok(
            "POST", "/auth/register", {"name": "Bench Lender", "email": email, "password": PASSWORD}, expect=201
        )["token"]

    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(register, emails))
    loan_ids = [client.ok("POST", "/loans", _loan_body(emails), borrower, expect=201)["loan_id"] for _ in range(loans)]
    return tokens, loan_ids


def http_race(url: str, tokens: list[str], loan_ids: list[str], label: str, pids: dict[str, list[int]]) -> Race:
    """Every lender accepts every loan in the same order, all starting at once."""
    barrier = threading.Barrier(len(tokens))
    spans: list[tuple[float, float]] = []
    race = Race(label, len(tokens))
    lock = threading.Lock()

    def lender(token: str) -> None:
        client = Http(url)
        client.call("GET", "/health")  # connect before the start line
        barrier.wait()
        started = time.perf_counter()
        mine = []
        for loan_id in loan_ids:
            status, body, ms = client.call("PUT", f"/lender/accept/{loan_id}", ACH, token)
            mine.append((ms, _outcome(status, body)))
        with lock:
            race.samples += mine
            spans.append((started, time.perf_counter()))

    threads = [threading.Thread(target=lender, args=(t,)) for t in tokens]
    roles = {"moto": pids["aws"], "service": pids["api"], "client": [os.getpid()]}
    with cpu_used(roles) as race.cpu_seconds:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    race.wall_seconds = max(end for _, end in spans) - min(start for start, _ in spans)
    return race


def http_sequential(url: str, count: int, tag: str, pids: dict[str, list[int]]) -> Race:
    """Uncontended: one lender, `count` loans that it alone is invited to, one at a time."""
    borrower_email, [email] = _emails(tag, 1)
    client = Http(url)
    borrower = client.ok(
        "POST", "/auth/register", {"name": "B", "email": borrower_email, "password": PASSWORD}, expect=201
    )["token"]
    token = client.ok("POST", "/auth/register", {"name": "L", "email": email, "password": PASSWORD}, expect=201)[
        "token"
    ]
    loan_ids = [
        client.ok("POST", "/loans", _loan_body([email], 100, 100), borrower, expect=201)["loan_id"]
        for _ in range(count)
    ]
    race = Race("API, sequential", 1)
    started = time.perf_counter()
    roles = {"moto": pids["aws"], "service": pids["api"], "client": [os.getpid()]}
    with cpu_used(roles) as race.cpu_seconds:
        for loan_id in loan_ids:
            status, body, ms = client.call("PUT", f"/lender/accept/{loan_id}", ACH, token)
            race.samples.append((ms, _outcome(status, body)))
    race.wall_seconds = time.perf_counter() - started
    return race


# -- the baseline: the use cases called directly -----------------------------------------


def _direct_accept(services, user_id: str, loan_id: str) -> tuple[float, str]:
    from service.domain.ach import AchDetails
    from service.domain.errors import DomainError

    started = time.perf_counter()
    try:
        services.funding.accept(user_id, loan_id, AchDetails.from_request(dict(ACH)))
        outcome = "ACCEPTED"
    except DomainError as exc:
        outcome = exc.code
    return (time.perf_counter() - started) * 1000, outcome


def direct_setup(
    lenders: int, loans: int, tag: str, amount: int = AMOUNT, contribution: int | None = None
) -> tuple[list[str], list[str]]:
    """As `http_setup`, through the use cases (the app must be configured)."""
    borrower_email, emails = _emails(tag, lenders)
    services = _APP["services"]
    borrower = services.accounts.register("Bench Borrower", borrower_email, PASSWORD).user.user_id
    user_ids = [services.accounts.register("Bench Lender", e, PASSWORD).user.user_id for e in emails]
    loan_ids = [
        services.loans.create(borrower, _loan_body(emails, amount, contribution)).loan.loan_id for _ in range(loans)
    ]
    return user_ids, loan_ids


def _direct_worker(env: dict, user_ids: list[str], loan_ids: list[str], start_at: float) -> dict:
    """One baseline process: its share of the lenders, one thread each (spawned process)."""
    warnings.filterwarnings(**QUIET)
    os.environ.update(env)
    calls = AwsCalls().install()
    from service.bootstrap import bootstrap

    services = bootstrap()
    services.store.ping()  # open a connection to the store before the start line
    samples: list[tuple[float, str]] = []
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def lender(user_id: str) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        started = time.perf_counter()
        mine = [_direct_accept(services, user_id, loan_id) for loan_id in loan_ids]
        with lock:
            samples.extend(mine)
            spans.append((started, time.perf_counter()))

    calls.calls.clear()
    threads = [threading.Thread(target=lender, args=(u,)) for u in user_ids]
    cpu_before = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu_before  # this process, every thread (the wait is idle)
    offset = time.time() - time.perf_counter()  # spans on the wall clock, to merge processes
    return {
        "samples": samples,
        "calls": dict(calls.calls),
        "cpu_seconds": cpu,
        "spans": [(s + offset, e + offset) for s, e in spans],
    }


def direct_race(
    env: dict, user_ids: list[str], loan_ids: list[str], processes: int, pids: dict[str, list[int]]
) -> Race:
    shares = [user_ids[i::processes] for i in range(processes)]
    start_at = time.time() + 8  # after every process has imported and built the app
    ctx = multiprocessing.get_context("spawn")
    race = Race(f"baseline, {processes} processes", len(user_ids))
    with ctx.Pool(processes) as pool, cpu_used({"moto": pids["aws"]}) as moto:
        results = pool.starmap(_direct_worker, [(env, share, loan_ids, start_at) for share in shares])
    race.cpu_seconds = {**moto, "service": sum(r["cpu_seconds"] for r in results)}
    spans = [span for r in results for span in r["spans"]]
    race.wall_seconds = max(e for _, e in spans) - min(s for s, _ in spans)
    for result in results:
        race.samples += [tuple(s) for s in result["samples"]]
        race.calls.update(result["calls"])
    return race


def direct_sequential(count: int, tag: str, pids: dict[str, list[int]]) -> Race:
    """Uncontended, as `http_sequential`."""
    [user_id], loan_ids = direct_setup(1, count, tag, amount=100, contribution=100)
    race = Race("baseline, sequential", 1)
    started = time.perf_counter()
    with cpu_used({"moto": pids["aws"], "service": [os.getpid()]}) as race.cpu_seconds:
        race.samples = [_direct_accept(_APP["services"], user_id, loan_id) for loan_id in loan_ids]
    race.wall_seconds = time.perf_counter() - started
    return race


# -- calls and latency per operation, in-process ----------------------------------------


def per_operation(calls: AwsCalls, repeats: int) -> list[dict]:
    """Each operation `repeats` times through the app in-process (Starlette's test client):
    boto3 calls per request, p50 latency, and the part of it spent inside boto3 calls."""
    app_client = context_app().test_client()
    tag = uuid.uuid4().hex[:8]
    rows: list[dict] = []

    def op(name: str, make, expect: int) -> list:
        latencies, aws, counted, answers = [], [], Counter(), []
        for i in range(repeats):
            method, path, body, token = make(i)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            with calls.recording() as seen:
                started = time.perf_counter()
                response = app_client.request(method, path, json=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != expect:
                raise RuntimeError(f"{name}: expected {expect}, got {response.status_code} {response.text[:300]}")
            aws.append(seen["seconds"] * 1000)
            counted += seen["calls"]
            answers.append(response.json())
        per_request = {k: round(v / repeats, 2) for k, v in sorted(counted.items())}
        rows.append(
            {
                "operation": name,
                "status": expect,
                "calls": per_request,
                "calls_total": round(sum(counted.values()) / repeats, 2),
                "p50_ms": round(percentile(latencies, 50), 1),
                "aws_ms": round(percentile(aws, 50), 1),
            }
        )
        return answers

    def register_body(email: str) -> dict:
        return {"name": "Op User", "email": email, "password": PASSWORD}

    def user(label: str) -> tuple[str, str]:
        email = f"op-{label}-{tag}@bench.example.com"
        token = app_client.post("/auth/register", json=register_body(email)).json()["token"]
        return email, token

    _b_email, b_token = user("borrower")
    (l1_email, l1_token), (l2_email, l2_token), (l3_email, _) = user("l1"), user("l2"), user("l3")
    later = [f"op-later-{tag}-{i}@bench.example.com" for i in range(repeats)]
    # Invitations waiting for people who register later (one loan, `repeats` strangers).
    app_client.post("/loans", headers={"Authorization": f"Bearer {b_token}"}, json=_loan_body(later, 100, 100))

    op(
        "POST /auth/register (no invitations)",
        lambda i: ("POST", "/auth/register", register_body(f"op-new-{tag}-{i}@bench.example.com"), None),
        201,
    )
    op(
        "POST /auth/register (1 invitation waiting)",
        lambda i: ("POST", "/auth/register", register_body(later[i]), None),
        201,
    )
    op("POST /auth/login", lambda i: ("POST", "/auth/login", {"email": l3_email, "password": PASSWORD}, None), 200)
    body = {
        **_loan_body([l1_email, l2_email, l3_email], 1000, 1000),
        "lenders": [
            {"email": l1_email, "contribution_amount": 1000},
            {"email": l2_email, "contribution_amount": 500},
            {"email": l3_email, "contribution_amount": 500},
            {"email": f"op-unknown-a-{tag}@bench.example.com", "contribution_amount": 100},
            {"email": f"op-unknown-b-{tag}@bench.example.com", "contribution_amount": 100},
        ],
    }
    created = op("POST /loans (3 users + 2 unknown emails)", lambda i: ("POST", "/loans", body, b_token), 201)
    loan_ids = [loan["loan_id"] for loan in created]
    op("GET /loans/{id} (borrower, 5 participants)", lambda i: ("GET", f"/loans/{loan_ids[i]}", None, b_token), 200)
    op("GET /loans/{id} (invited lender)", lambda i: ("GET", f"/loans/{loan_ids[i]}", None, l1_token), 200)
    op("GET /loans/my-loans", lambda i: ("GET", "/loans/my-loans", None, b_token), 200)
    op("GET /lender/pending", lambda i: ("GET", "/lender/pending", None, l1_token), 200)
    op(
        "PUT /lender/accept/{id} (200, funds the loan)",
        lambda i: ("PUT", f"/lender/accept/{loan_ids[i]}", ACH, l1_token),
        200,
    )
    op(
        "PUT /lender/accept/{id} (409 ALREADY_ACCEPTED)",
        lambda i: ("PUT", f"/lender/accept/{loan_ids[i]}", ACH, l1_token),
        409,
    )
    op(
        "PUT /lender/accept/{id} (409 LOAN_FULLY_FUNDED)",
        lambda i: ("PUT", f"/lender/accept/{loan_ids[i]}", ACH, l2_token),
        409,
    )
    op("GET /user/dashboard (borrower)", lambda i: ("GET", "/user/dashboard", None, b_token), 200)
    op("GET /user/dashboard (lender)", lambda i: ("GET", "/user/dashboard", None, l1_token), 200)
    op("GET /user/profile", lambda i: ("GET", "/user/profile", None, l1_token), 200)
    op("GET /health", lambda i: ("GET", "/health", None, None), 200)
    return rows


_APP: dict = {}


def context_app():
    return _APP["app"]


def build_app(bcrypt_rounds: int):
    from service.bootstrap import bootstrap
    from service.config import Settings
    from service.http.app import create_app

    _APP["services"] = bootstrap(replace(Settings.from_env(), bcrypt_rounds=bcrypt_rounds))
    _APP["app"] = create_app(_APP["services"])
    return _APP["app"]


def bcrypt_share(repeats: int) -> dict:
    """bcrypt's part of a login at cost 12: `check_password` alone vs the whole request."""
    from service.security.passwords import BcryptPasswords

    passwords = BcryptPasswords(BCRYPT_COST)
    app_client = context_app().test_client()
    email = f"bcrypt-{uuid.uuid4().hex[:8]}@bench.example.com"
    registered = app_client.post("/auth/register", json={"name": "Cost", "email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    stored = passwords.hash(PASSWORD)

    def timed(fn) -> list[float]:
        fn()  # warm
        out = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            out.append((time.perf_counter() - started) * 1000)
        return out

    alone = timed(lambda: passwords.check(PASSWORD, stored))
    login = timed(lambda: app_client.post("/auth/login", json={"email": email, "password": PASSWORD}))
    # A different unknown email each time, so login throttling never steps in.
    unknown = timed(
        lambda: app_client.post(
            "/auth/login", json={"email": f"nobody-{uuid.uuid4().hex[:10]}@bench.example.com", "password": PASSWORD}
        )
    )
    hash_alone = timed(lambda: passwords.hash(PASSWORD))
    register = timed(
        lambda: app_client.post(
            "/auth/register",
            json={"name": "Cost", "email": f"bcrypt-{uuid.uuid4().hex[:10]}@bench.example.com", "password": PASSWORD},
        )
    )
    p50 = lambda xs: round(percentile(xs, 50), 1)  # noqa: E731
    return {
        "cost": BCRYPT_COST,
        "repeats": repeats,
        "check_password_p50_ms": p50(alone),
        "login_p50_ms": p50(login),
        "login_unknown_email_p50_ms": p50(unknown),
        "login_share": round(percentile(alone, 50) / percentile(login, 50), 3),
        "hash_password_p50_ms": p50(hash_alone),
        "register_p50_ms": p50(register),
        "register_share": round(percentile(hash_alone, 50) / percentile(register, 50), 3),
    }


# -- the report -------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": {p: version(p) for p in ("connexion", "uvicorn", "boto3", "moto", "bcrypt")},
    }


def render(data: dict) -> str:
    m, args = data["machine"], data["args"]
    lines = [
        f"# Benchmark {data['started']}",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['system']}; "
        f"load average at start {m['load_average_at_start']}. "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + ".",
        f"Command: `{data['command']}`",
        "",
        f"## Accepting under contention: {args['lenders']} lenders race for {args['loans']} loans "
        f"(amount {AMOUNT}, {contribution_for(args['lenders'])} each), then {args['sequential']} uncontended accepts",
        "",
        "| run | concurrency | requests | req/s | accepted/s | p50 ms | p95 ms | p99 ms | outcomes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for race in data["races"]:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(race["outcomes"].items()))
        lines.append(
            f"| {race['label']} | {race['concurrency']} | {race['requests']} "
            f"| {race['requests_per_second']} | {race['accepted_per_second']} | {race['p50_ms']} "
            f"| {race['p95_ms']} | {race['p99_ms']} | {outcomes} |"
        )
    lines += [
        "",
        "CPU per accept request, by process (ms; `service` is the API workers or the baseline "
        "processes, `client` the HTTP load generator, `moto` the local DynamoDB):",
        "",
        "| run | moto | service | client | CPU total | wall p50 |",
        "|---|---|---|---|---|---|",
    ]
    for race in data["races"]:
        cpu = race["cpu_ms_per_request"]
        lines.append(
            f"| {race['label']} | {cpu.get('moto', '')} | {cpu.get('service', '')} | "
            f"{cpu.get('client', '')} | {round(sum(cpu.values()), 1)} | {race['p50_ms']} |"
        )
    o = data["overhead"]
    lines += [
        "",
        "Overhead of the framework, validation, auth and HTTP (API against baseline): under "
        f"contention, throughput baseline ÷ API ×{o['contended_throughput_ratio']}, latency API ÷ "
        f"baseline p50 ×{o['contended_p50_ratio']}, p95 ×{o['contended_p95_ratio']}; uncontended, "
        f"p50 ×{o['sequential_p50_ratio']} ({o['sequential_p50_added_ms']:+} ms a request). Service "
        f"CPU per request, API ÷ baseline: ×{o['contended_service_cpu_ratio']} under contention, "
        f"×{o['sequential_service_cpu_ratio']} uncontended.",
        "",
        "Store calls per accept request under contention (baseline, counted): "
        + ", ".join(f"{k} {v}" for k, v in o["calls_per_contended_accept"].items())
        + ".",
        "",
        f"## Calls per operation (in-process, warm; p50 of {args['repeats']}; bcrypt cost {BCRYPT_COST})",
        "",
        "| operation | status | calls per request | total | p50 ms | in boto3 calls ms |",
        "|---|---|---|---|---|---|",
    ]
    for row in data["operations"]:
        calls = ", ".join(
            f"{k.split(':', 1)[1] if k.startswith('dynamodb:') else k} {v:g}" for k, v in row["calls"].items()
        )
        lines.append(
            f"| {row['operation']} | {row['status']} | {calls} | {row['calls_total']:g} "
            f"| {row['p50_ms']} | {row['aws_ms']} |"
        )
    b = data["bcrypt"]
    lines += [
        "",
        f"## bcrypt at cost {b['cost']} (p50 of {b['repeats']})",
        "",
        "| measure | ms |",
        "|---|---|",
        f"| `check_password` alone | {b['check_password_p50_ms']} |",
        f"| POST /auth/login (in-process) | {b['login_p50_ms']} |",
        f"| POST /auth/login, unknown email | {b['login_unknown_email_p50_ms']} |",
        f"| `hash_password` alone | {b['hash_password_p50_ms']} |",
        f"| POST /auth/register (in-process) | {b['register_p50_ms']} |",
        "",
        f"bcrypt is {b['login_share'] * 100:.0f}% of a login and {b['register_share'] * 100:.0f}% of a registration.",
    ]
    return "\n".join(lines) + "\n"


def _cpu_ratio(api: Race, baseline: Race) -> float:
    """CPU the service's own processes spent per request: API workers ÷ baseline processes."""
    api_cpu, base_cpu = api.cpu_seconds.get("service", 0), baseline.cpu_seconds.get("service", 0)
    if not base_cpu or not api.samples or not baseline.samples:
        return float("nan")
    return round((api_cpu / len(api.samples)) / (base_cpu / len(baseline.samples)), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--lenders", type=int, default=40, help="racing lenders, at most 40 (default 40)")
    parser.add_argument("--loans", type=int, default=6, help="loans they race for (default 6)")
    parser.add_argument("--sequential", type=int, default=30, help="uncontended accepts (default 30)")
    parser.add_argument("--repeats", type=int, default=10, help="repetitions per operation (default 10)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="API worker processes (default 2)")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    args = parser.parse_args(argv)
    warnings.filterwarnings(**QUIET)
    if not 1 <= args.lenders <= 40:
        parser.error("--lenders must be 1..40 (a loan invites at most 40)")

    started = time.strftime("%Y%m%d-%H%M%S")
    out = args.results / f"bench-{started}"
    out.mkdir(parents=True, exist_ok=True)
    data: dict = {
        "started": started,
        "machine": machine(),
        "args": vars(args) | {"results": str(args.results)},
        "command": "python -m benchmarks.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print(f"Machine: {data['machine']}", flush=True)

    print(f"1/4 API over HTTP: {args.workers} workers, {args.lenders} lenders × {args.loans} loans …", flush=True)
    with LocalStack(
        workers=args.workers, log_dir=out / "api-stack", extra_env=BENCH_ENV, background_workers=False
    ) as stack:
        tokens, loan_ids = http_setup(stack.url, args.lenders, args.loans, uuid.uuid4().hex[:8])
        pids = stack.pids()
        api_race = http_race(stack.url, tokens, loan_ids, f"API, {args.workers} workers", pids)
        api_seq = http_sequential(stack.url, args.sequential, uuid.uuid4().hex[:8], pids)

    print("2/4 baseline: the use case called directly, same processes and threads …", flush=True)
    with LocalStack(workers=0, log_dir=out / "baseline-stack", extra_env=BENCH_ENV) as stack:
        env = {**stack.env, "LOG_LEVEL": "WARNING"}
        os.environ.update(env)
        calls = AwsCalls().install()
        build_app(bcrypt_rounds=int(env["BCRYPT_ROUNDS"]))
        user_ids, base_loans = direct_setup(args.lenders, args.loans, uuid.uuid4().hex[:8])
        pids = stack.pids()
        base_race = direct_race(env, user_ids, base_loans, max(1, args.workers), pids)
        base_seq = direct_sequential(args.sequential, uuid.uuid4().hex[:8], pids)

        print("3/4 calls per operation, in-process …", flush=True)
        build_app(bcrypt_rounds=BCRYPT_COST)
        data["operations"] = per_operation(calls, args.repeats)
        print("4/4 bcrypt …", flush=True)
        data["bcrypt"] = bcrypt_share(args.repeats)

    races = [api_race, base_race, api_seq, base_seq]
    data["races"] = [r.as_dict() for r in races]
    accepts = len(base_race.samples)
    data["overhead"] = {
        "contended_throughput_ratio": round(base_race.throughput / api_race.throughput, 2),
        "contended_p50_ratio": round(percentile(api_race.latencies, 50) / percentile(base_race.latencies, 50), 2),
        "contended_p95_ratio": round(percentile(api_race.latencies, 95) / percentile(base_race.latencies, 95), 2),
        "sequential_p50_ratio": round(percentile(api_seq.latencies, 50) / percentile(base_seq.latencies, 50), 2),
        "sequential_p50_added_ms": round(percentile(api_seq.latencies, 50) - percentile(base_seq.latencies, 50), 1),
        "calls_per_contended_accept": {k: round(v / accepts, 2) for k, v in sorted(base_race.calls.items())},
        "contended_service_cpu_ratio": _cpu_ratio(api_race, base_race),
        "sequential_service_cpu_ratio": _cpu_ratio(api_seq, base_seq),
    }
    report = render(data)
    (out / "report.md").write_text(report, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    print()
    print(report)
    print(f"Written to {out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
