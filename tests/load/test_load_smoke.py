"""`make load` in small: the local multi-worker stack, Locust headless for a few seconds with
a dozen users, then the invariant check through the API. Everything must pass, the checker
must have checked loans, and lenders must have won and lost races."""

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_load_run_passes_and_checks_real_loans(tmp_path):
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests",
            "--users",
            "12",
            "--spawn-rate",
            "12",
            "--duration",
            "6s",
            "--quiet",
            "--results",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    [folder] = tmp_path.glob("load-*")

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["ok"] and summary["server_errors"] == 0, summary
    assert summary["outcomes"].get("accept ACCEPTED", 0) >= 1, summary
    invariants = json.loads((folder / "invariants.json").read_text())
    assert invariants["ok"] and invariants["violations"] == [], invariants
    assert invariants["loans_checked"] >= 1 and invariants["accepted_participants"] >= 1, invariants
    assert invariants["loans_checked"] == len((folder / "loans.jsonl").read_text().splitlines())

    # Locust's own reports, and every request type of the scenario in them.
    assert (folder / "report.html").stat().st_size > 0
    with open(folder / "locust_stats.csv", newline="") as stats:
        names = {row["Name"] for row in csv.DictReader(stats)}
    assert {"/auth/login", "/lender/pending", "/lender/accept/[loan_id]", "/loans", "Aggregated"} <= names
    assert "Load test passed." in run.stdout
    assert time.monotonic() - started < 60, output


def test_a_run_over_its_thresholds_fails(base_url, tmp_path):
    """Against a running API (`--host`), so no stack is started: a p95 limit no request can
    meet must make the run fail, and say why."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests",
            "--host",
            base_url,
            "--users",
            "4",
            "--spawn-rate",
            "4",
            "--duration",
            "3s",
            "--max-p95-ms",
            "0.001",
            "--quiet",
            "--results",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "LOAD TEST FAILED" in run.stderr and "p95" in run.stderr, run.stderr
    [folder] = tmp_path.glob("load-*")
    summary = json.loads((folder / "summary.json").read_text())
    assert not summary["ok"] and summary["requests"] > 0
    assert not (folder / "aws.log").exists()  # nothing was started for a given host
