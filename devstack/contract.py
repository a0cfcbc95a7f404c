"""The contract run: Schemathesis against the local stack, or a deployed one.

    python -m devstack contract                 # CI profile, local stack (part of `make test`)
    python -m devstack contract --profile deep  # `make fuzz`
    python -m devstack contract --url https://…/dev

Every operation, every built-in check, all phases (examples, coverage, fuzzing, stateful
through the spec's links), as two registered users ("peers") for the object-level
authorization check. Settings and the few documented relaxations are in schemathesis.toml;
the hooks that supply what a schema cannot (valid routing numbers, real logins, invited
loans, emailed tokens) are in devstack/contract_hooks.py, their fixtures made by
devstack/contract_setup.py. The run fails on any failed case and on any warning, and ends
with the line `contract: N passed, M failed` (devstack/contract_report.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from devstack import contract_report, contract_setup

ROOT = Path(__file__).resolve().parent.parent
RESULTS = contract_setup.RESULTS
JUNIT, SUMMARY, REACH = RESULTS / "junit.xml", RESULTS / "summary.json", RESULTS / "reach.json"
PROFILES = {
    # Seeded and bounded: the same cases on every CI run.
    "ci": ["--max-examples", "30", "--seed", "20261122", "--workers", "1", "--generation-database", "none"],
    # Longer and unseeded, to find what the CI profile does not.
    "deep": ["--max-examples", "500", "--max-time", "900", "--workers", "2"],
}
# Loans alice is invited to (to accept or decline), and unverified accounts (local only), for the hooks to spend:
# one per case they fill in (half of each phase's positive cases at most).
FIXTURES = {"ci": (60, 10), "deep": (600, 100)}
# A deployed stack has no mailbox to read and no clock to set back: these operations can
# answer only 4xx there (a made-up token; verified peers), which Schemathesis reports.
WITHOUT_MAILBOX = {"POST /auth/verify-email", "POST /auth/resend-verification", "POST /auth/reset-password"}
ALLOWED_WITHOUT_MAILBOX = {"validation_mismatch": {"POST /auth/verify-email", "POST /auth/reset-password"}}


def run_schemathesis(
    base_url: str, profile: str, mailbox_url: str | None = None, unverified: list[str] | None = None
) -> int:
    """Schemathesis' exit code; the reports land in results/contract/."""
    contract_setup.prepare(
        base_url,
        mailbox_url,
        os.environ.get("CONTRACT_EMAIL_DOMAIN", "example.com"),
        FIXTURES[profile][0],
        unverified or [],
    )
    for stale in (JUNIT, SUMMARY, REACH):
        stale.unlink(missing_ok=True)
    command = [
        shutil.which("schemathesis", path=os.path.dirname(sys.executable)) or "schemathesis",
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "--no-color",
        "run",
        str(ROOT / "openapi.yaml"),
        "--url",
        base_url,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--report",
        "junit,json",
        "--report-junit-path",
        str(JUNIT),
        "--report-json-path",
        str(SUMMARY),
        *PROFILES[profile],
    ]
    print(
        f"Contract run ({profile}): every operation, checks: all built-in, "
        f"phases: examples, coverage, fuzzing, stateful; as peers alice and bob.",
        flush=True,
    )
    return subprocess.call(command, cwd=ROOT)


def report(exit_code: int, with_mailbox: bool) -> int:
    """Print what each operation reached, any warning, and last the closing line; 0 only for
    a clean run without warnings whose every operation got a 2xx where it must."""
    from service.http.routing import load_spec, spec_operations

    spec = load_spec()
    operations = [f"{op['method'].upper()} {op['path']}" for op in spec_operations(spec)]
    unreachable = set() if with_mailbox else WITHOUT_MAILBOX
    reach = json.loads(REACH.read_text()) if REACH.exists() else {}
    lines, missing = contract_report.reach_lines(reach, operations, unreachable, contract_report.link_targets(spec))
    print("\nResponses per operation and phase (2xx / all):", *lines, sep="\n")
    junit = JUNIT.read_text() if JUNIT.exists() else "<testsuites/>"
    summary = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else None
    verdict = contract_report.verdict(junit, summary, None if with_mailbox else ALLOWED_WITHOUT_MAILBOX)
    problems = []
    if exit_code:
        problems.append(f"Schemathesis exited with {exit_code}.")
    if summary is None:
        problems.append(f"Schemathesis wrote no JSON report ({SUMMARY.name}).")
    if verdict.failing_operations:
        problems.append("Failing: " + ", ".join(verdict.failing_operations) + ".")
    for kind, labels in verdict.warnings.items():
        problems.append(f"Warning {kind} (the run must have none): {', '.join(labels)}.")
    if missing:
        problems.append("No 2xx response: " + ", ".join(missing) + ".")
    if not with_mailbox and summary is not None:
        for kind, labels in ALLOWED_WITHOUT_MAILBOX.items():
            expected = sorted(labels & set((summary.get("warnings") or {}).get(kind, [])))
            if expected:
                print(f"Expected without a mailbox, not a failure: warning {kind}: {', '.join(expected)}.")
    if verdict.unchecked:
        print(f"{verdict.unchecked} generated cases had no check to run (Schemathesis' skipped); not counted.")
    for problem in problems:
        print(f"Contract run failed: {problem}")
    print(verdict.closing_line, flush=True)
    return 1 if problems or verdict.failed else 0


def run_deployed(url: str, profile: str) -> int:
    return report(run_schemathesis(url.rstrip("/"), profile), with_mailbox=False)


def run_locally(profile: str) -> int:
    from devstack.api import BackgroundServer, local_environment
    from devstack.aws import LocalAws, deploy_database_stack
    from devstack.mailbox import verify_sender

    with LocalAws() as aws:
        outputs = deploy_database_stack(aws.endpoint_url)
        verify_sender(aws.endpoint_url)
        os.environ.update(local_environment(aws.endpoint_url, outputs))
        os.environ.update(BCRYPT_ROUNDS="4", LOG_LEVEL="CRITICAL")
        from service.bootstrap import bootstrap
        from service.http.app import create_app

        services = bootstrap()
        server = BackgroundServer(create_app(services))
        try:
            unverified = contract_setup.backdated_unverified_accounts(services, FIXTURES[profile][1])
            code = run_schemathesis(server.base_url, profile, aws.endpoint_url, unverified)
        finally:
            server.stop()
    return report(code, with_mailbox=True)
