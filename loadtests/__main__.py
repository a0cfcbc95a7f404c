"""`make load`: Locust's loan scenarios, headless, then the invariants of every loan and its history.

    python -m loadtests [--host URL] [--users 60] [--spawn-rate 20] [--duration 60s]
                        [--max-failure-rate 0.01] [--max-p95-ms MS] [--workers 2]
                        [--min-funding-window SECONDS] [--retry-share 0.1] [--concurrent-share 0.5]
                        [-- more Locust options]

Without --host it starts the local stack (one moto server process, `--workers` API worker
processes, bcrypt cost 4, the background workers) and stops it on exit, failure included;
before the check, it runs the expiry job once more, alone, so the check knows every expiry
due by then is written. Everything lands in
`results/load-<timestamp>/`: Locust's CSV files and HTML report, the loans the run created
(`loans.jsonl`), the requests it sent twice with one Idempotency-Key (`retries.jsonl`),
Locust's verdict (`summary.json`), the invariant report (`invariants.json`) and, for a local
stack, the servers' logs and the moto server's memory through the run (`moto_memory.csv`).
Exits 1 on any broken invariant or unreadable loan, any 5xx, or a failure ratio or p95 over
the thresholds; 2 when the stack did not start.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from loadtests.stack import DEFAULT_WORKERS, LOAD_MIN_FUNDING_WINDOW, ROOT, LocalStack, StackError

LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"


def _seconds(duration: str) -> float:
    """Locust's --run-time syntax: 90, 90s, 2m, 1h30m."""
    if re.fullmatch(r"\d+", duration):
        return float(duration)
    parts = re.findall(r"(\d+)\s*([hms])", duration)
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s", "", duration):
        raise argparse.ArgumentTypeError(f"not a duration: {duration!r} (e.g. 30s, 2m, 1h30m)")
    return float(sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts))


def _url(value: str) -> str:
    if not re.match(r"https?://[^/\s]+", value):
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value!r}")
    return value.rstrip("/")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtests", description=__doc__.splitlines()[0])
    parser.add_argument("--host", type=_url, help="a running API (default: start the local stack)")
    parser.add_argument("--users", type=int, default=60, help="concurrent Locust users (default 60)")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second (default 20)")
    parser.add_argument("--duration", default="60s", help="run time, e.g. 30s or 2m (default 60s)")
    parser.add_argument(
        "--max-failure-rate", type=float, default=0.01, help="fail above this failures/requests ratio (default 0.01)"
    )
    parser.add_argument("--max-p95-ms", type=float, default=0, help="fail above this p95 in ms (0: no limit)")
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"API worker processes of the local stack (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--min-funding-window",
        type=int,
        help=(
            "the API's shortest funding window in seconds, for loans whose deadline passes during the run: "
            f"the local stack's (default {LOAD_MIN_FUNDING_WINDOW}), or a deployed stage's "
            "MinFundingWindowSeconds (default: no short deadlines)"
        ),
    )
    parser.add_argument(
        "--retry-share",
        type=float,
        default=0.1,
        help="share of changing requests sent again with their Idempotency-Key after a lost answer (default 0.1)",
    )
    parser.add_argument(
        "--concurrent-share",
        type=float,
        default=0.5,
        help="share of those retries sent while the first attempt still runs (default 0.5)",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="parent of the run's folder")
    parser.add_argument("--quiet", action="store_true", help="Locust's output only in locust.log")
    parser.add_argument("locust_args", nargs="*", help="more Locust options, after --")
    args = parser.parse_args(argv)
    _seconds(args.duration)
    return args


def _raise_on_sigterm() -> None:
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def run_locust(
    args: argparse.Namespace, host: str, out: Path, mailbox: str | None = None, funding_window: int = 0
) -> int:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        args.duration,
        "--stop-timeout",
        "30",
        "--csv",
        str(out / "locust"),
        "--html",
        str(out / "report.html"),
        "--record-file",
        str(out / "loans.jsonl"),
        "--summary-file",
        str(out / "summary.json"),
        "--max-failure-rate",
        str(args.max_failure_rate),
        "--max-p95-ms",
        str(args.max_p95_ms),
        "--min-funding-window",
        str(funding_window),
        "--retry-file",
        str(out / "retries.jsonl"),
        "--retry-share",
        str(args.retry_share),
        "--concurrent-share",
        str(args.concurrent_share),
        *(["--mailbox", mailbox] if mailbox else []),
        *(["--only-summary"] if args.quiet else []),
        *args.locust_args,
    ]
    print("$ " + " ".join(command[1:]), flush=True)
    with open(out / "locust.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )

        def pump() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                log.write(line)
                if not args.quiet:
                    sys.stdout.write(line)
                    sys.stdout.flush()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=_seconds(args.duration) + 180)
        except subprocess.TimeoutExpired:
            print("Locust did not finish in time; stopping it.", file=sys.stderr)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            reader.join(timeout=5)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    from loadtests.check import check_run, describe, json_lines, read_keys, read_records
    from loadtests.memory import MemorySampler

    args = parse_args(argv)
    _raise_on_sigterm()
    out = args.results / f"load-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    print(f"Results: {out}", flush=True)
    stack, memory = None, None
    try:
        host = args.host
        if host is None:
            print(
                f"Starting the local stack: 1 moto process, {args.workers} API workers, the background workers, "
                "bcrypt cost 4 …",
                flush=True,
            )
            window = args.min_funding_window or LOAD_MIN_FUNDING_WINDOW
            stack = LocalStack(workers=args.workers, log_dir=out, min_funding_window=window).start()
            host = stack.url
            print(f"API on {host} (DynamoDB: moto at {stack.aws_endpoint})", flush=True)
        if stack:
            with MemorySampler(stack.pids()["aws"][0], out / "moto_memory.csv") as memory:
                locust_code = run_locust(args, host, out, stack.aws_endpoint, stack.min_funding_window)
        else:
            locust_code = run_locust(args, host, out, None, args.min_funding_window or 0)
        summary_path = out / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}

        records_path = out / "loans.jsonl"
        records = read_records(records_path) if records_path.exists() else []
        creates = read_keys(records_path) if records_path.exists() else {}
        repaid = read_keys(records_path, "repay_key", "loan_id") if records_path.exists() else {}
        expiry_ran_at = stack.expire_now() if stack else None
        retries_path = out / "retries.jsonl"
        retried = json_lines(retries_path) if retries_path.exists() else []
        report = check_run(
            host, records, expiry_ran_at=expiry_ran_at, retried=retried, creates=creates, repay_keys=repaid
        )
        (out / "invariants.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    except StackError as exc:
        print(f"The local stack failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    finally:
        if stack is not None:
            stack.stop()

    print()
    print(
        f"Locust: {summary.get('requests', 0)} requests, {summary.get('failures', 0)} failures, "
        f"{summary.get('server_errors', 0)} 5xx, {summary.get('rps', 0)} req/s, "
        f"p50 {summary.get('p50_ms')} ms, p95 {summary.get('p95_ms')} ms, p99 {summary.get('p99_ms')} ms"
    )
    if memory is not None:
        print(memory.summary())
    print(f"Outcomes: {json.dumps(summary.get('outcomes', {}), sort_keys=True)}")
    print(describe(report))
    failed = []
    if locust_code != 0:
        failed += summary.get("reasons") or [f"locust exited with {locust_code}"]
    if report.loans_checked == 0:
        failed.append("no loan was created, so nothing was checked")
    if not report.ok:
        failed.append(f"{len(report.violations)} broken invariants, {len(report.unreadable)} unreadable loans")
    print(f"Reports: {out}/report.html, {out}/locust_stats.csv")
    if failed:
        print("LOAD TEST FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("Load test passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
