"""`make load` in small: the local multi-worker stack with its background workers, Locust
headless for a few seconds, then the invariant and history check through the API. Everything
must pass, the checker must have checked every loan and its history, and the run must have
had every ending: lenders won and lost races, declined, borrowers cancelled, loans expired,
borrowers repaid loans and completed some; and requests retried with their Idempotency-Key
were answered by replays."""

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

from loadtests.check import read_records

ROOT = Path(__file__).resolve().parents[2]
# Shares raised so that a 15 s run has every ending, even on a busy machine (a run there may
# create only half a dozen loans): more borrowers, most invitees idle and a dozen invited per
# loan (so loans stay short of funds and the pool has lenders left to invite), many loans
# cancelled soon after creation, most with a short deadline (the others stay open all run, so
# borrowers, who look now and then, find declines on them to replace), half the answers declines;
# and half the loans invite only lenders who answer, for more, so that they fill and are repaid.
LIFECYCLE = [
    "--borrower-weight", "4", "--open-loans", "3", "--idle-lenders", "0.6", "--oversubscription", "2",
    "--lenders-per-loan", "12", "--cancel-share", "0.4", "--cancel-within", "4", "--decline-share", "0.5",
    "--short-deadline-share", "0.6", "--fill-share", "0.5",
]  # fmt: skip


def test_a_short_load_run_passes_and_checks_real_loans_of_every_ending(tmp_path):
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests",
            "--users",
            "16",
            "--spawn-rate",
            "16",
            "--duration",
            "20s",
            "--quiet",
            "--results",
            str(tmp_path),
            "--retry-share",  # a third of the changing requests sent twice with their key
            "0.3",
            "--",
            *LIFECYCLE,
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
    assert summary["ok"] and summary["server_errors"] == 0 and summary["short_deadlines"], summary
    outcomes = summary["outcomes"]
    for done in (
        "accept ACCEPTED",
        "decline DECLINED",
        "cancel CANCELLED",
        "invite INVITED",  # a borrower replaced lenders who declined
        "loans created with a short deadline",
    ):
        assert outcomes.get(done, 0) >= 1, (done, outcomes)
    invariants = json.loads((folder / "invariants.json").read_text())
    assert invariants["ok"] and invariants["violations"] == [], invariants
    loans = len(read_records(folder / "loans.jsonl"))
    assert invariants["loans_checked"] == invariants["histories_checked"] == loans >= 1, invariants
    assert invariants["accepted_participants"] + invariants["participants_by_status"].get("RELEASED", 0) >= 1
    assert invariants["loans_by_status"].get("CANCELLED", 0) >= 1, invariants
    assert invariants["loans_by_status"].get("EXPIRED", 0) >= 1, invariants
    assert invariants["participants_by_status"].get("DECLINED", 0) >= 1, invariants
    # The expiry job ran (in the background workers, then once more before the check).
    assert invariants["expiry_ran_at"] and invariants["events_by_type"].get("LOAN_EXPIRED", 0) >= 1, invariants
    # Retries with the key: lost answers and raced attempts, each answered by a replay; no
    # borrower has a loan more than the run saw created.
    for done in ("retried lost", "retried concurrent", "replays", "IN_USE answers"):
        assert outcomes.get(done, 0) >= 1, (done, outcomes)
        assert invariants["retries"][done] == outcomes[done], (invariants["retries"], outcomes)
    assert outcomes["replays"] == outcomes["retried lost"] + outcomes["retried concurrent"]
    assert "replay violations in flight" not in outcomes
    assert invariants["borrowers_checked"] == len({r["borrower_email"] for r in read_records(folder / "loans.jsonl")})
    # Each action the run took is in the histories it checked.
    events = invariants["events_by_type"]
    assert events["LOAN_CREATED"] == loans and events["LOAN_CANCELLED"] == invariants["loans_by_status"]["CANCELLED"]
    assert events["LENDERS_INVITED"] == outcomes["invite INVITED"], (events, outcomes)
    assert events["INVITATION_DECLINED"] == outcomes["decline DECLINED"], (events, outcomes)
    # Repayments: recorded, each once (retried ones too), and loans repaid in full COMPLETED.
    assert outcomes.get("repay RECORDED", 0) >= 1 and outcomes.get("loans completed", 0) >= 1, outcomes
    assert events["REPAYMENT_RECORDED"] == outcomes["repay RECORDED"] == invariants["repayments_checked"], outcomes
    assert events["LOAN_COMPLETED"] == invariants["loans_by_status"]["COMPLETED"] >= outcomes["loans completed"]
    assert "repay HTTP" not in " ".join(outcomes), outcomes
    assert "Local workers running" in (folder / "workers.log").read_text()

    # Locust's own reports, and the scenario's frequent request types in them (a rare one, a
    # cancel or an invitation, may end after Locust wrote its stats: the outcomes count those).
    assert (folder / "report.html").stat().st_size > 0
    with open(folder / "locust_stats.csv", newline="") as stats:
        names = {row["Name"] for row in csv.DictReader(stats)}
    assert {
        "/auth/login",
        "/lender/pending",
        "/lender/accept/[loan_id]",
        "/lender/decline/[loan_id]",
        "/loans",
        "Aggregated",
    } <= names
    # The moto server's memory, sampled from Locust's start to its end.
    with open(folder / "moto_memory.csv", newline="") as memory:
        assert len(list(csv.DictReader(memory))) >= 2
    assert "moto server memory: start" in run.stdout
    assert "Load test passed." in run.stdout
    # Short even on a busy shared machine, where starting the stack alone can take 20 s.
    assert time.monotonic() - started < 90, output


def test_a_run_over_its_thresholds_fails_and_goes_on_without_the_short_deadlines_refused(base_url, local_aws, tmp_path):
    """Against a running API (`--host`), so no stack is started: a p95 limit no request can
    meet must make the run fail, and say why. That API keeps the hour as its shortest funding
    window: the short deadline it refuses is no failure, and the run goes on without."""
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
            "5s",
            "--max-p95-ms",
            "0.001",
            "--retry-share",  # about thresholds and refused deadlines: the first answers will do
            "0",
            "--min-funding-window",
            "5",
            "--quiet",
            "--results",
            str(tmp_path),
            "--",
            "--mailbox",  # that API's outbox, for the accounts to verify themselves
            local_aws.endpoint_url,
            "--short-deadline-share",
            "1",
            "--borrower-weight",
            "9",
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
    assert [reason for reason in summary["reasons"] if "p95" not in reason] == [], summary
    assert summary["outcomes"]["short deadlines refused"] >= 1 and not summary["short_deadlines"], summary
    assert summary["failures"] == 0 and summary["outcomes"]["loans created"] >= 1, summary
    assert not (folder / "aws.log").exists()  # nothing was started for a given host
