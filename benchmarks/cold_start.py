"""Cold start of the Lambda handler, measured in fresh processes against a local moto server.

    python benchmarks/cold_start.py                   # what `make bench-cold` runs
    python benchmarks/cold_start.py --runs 9 --requests 20
    python benchmarks/cold_start.py --artifact build/lambda   # the files `make package` staged

Each run is a new Python process, like a new Lambda execution environment. It times:
- imports: `service.http.app` and Mangum (the service's dependencies, cold);
- init: importing `service.lambdas.http`, i.e. Lambda's init phase: the JWT secret from SSM,
  the boto3 DynamoDB resource, the Connexion app, its middleware stack;
- the first request of each operation (register is the process's first request), then the
  median of `--requests` warm ones, each a REST API (v1) proxy event through the handler.

The parent process serves DynamoDB and SSM (moto, in memory) and deploys the real database
template; one discarded run warms moto first, so the runs measure the handler, not moto.
With `--artifact DIR` the child imports only from DIR and the standard library (`python -S`),
exactly what the function would import, with DIR's precompiled modules and nothing written
(Lambda's code directory is read-only). Without it, the child uses this virtualenv, whose dev
tools (rich, click, ...) make some imports heavier than in Lambda.

bcrypt runs at the service's default cost (12) unless `--bcrypt-rounds` says otherwise, so
register and login show what they cost in production. Figures are medians over the runs.

Each run is paired with a baseline run in a fresh process from the same files: what any
Python function that uses DynamoDB pays, `import boto3` (imports), then
`boto3.resource("dynamodb"); boto3.client("ssm")` (init). The ratio of imports + init to it is
what the service's framework, validation and app build add to a cold start.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ["register", "login", "create loan", "accept", "get loan", "dashboard"]
PASSWORD = "benchmark password 123"
ACH = {
    "bank_name": "First Example Bank",
    "account_type": "checking",
    "routing_number": "011000015",
    "account_number": "000123456789",
}


# -- child: one cold process -------------------------------------------------------------------


def child(requests: int) -> dict:
    timings: dict = {}
    started = time.perf_counter()
    import mangum  # noqa: F401

    import service.http.app  # noqa: F401  the dependencies: connexion, boto3, PyJWT, bcrypt ...

    imported = time.perf_counter()
    import service.lambdas.http as lambda_handler

    initialised = time.perf_counter()
    if lambda_handler.init_error:
        raise SystemExit(f"init failed: {lambda_handler.init_error}")
    timings["imports_ms"] = (imported - started) * 1000
    timings["init_ms"] = (initialised - imported) * 1000

    from devstack.apigateway import invoke, rest_event

    def call(expected: int, method: str, path: str, **kwargs) -> tuple[float, dict]:
        event = rest_event(method, path, **kwargs)
        began = time.perf_counter()
        response = invoke(lambda_handler.handler, event)
        elapsed = (time.perf_counter() - began) * 1000
        if response.status != expected:
            raise SystemExit(f"{method} {path}: {response.status} {response.text[:300]}")
        return elapsed, response.json()

    def email(label: str) -> str:
        return f"{label}-{uuid.uuid4().hex[:12]}@example.com"

    def register(label: str) -> tuple[float, dict]:
        return call(
            201, "POST", "/auth/register", body={"name": label.title(), "email": email(label), "password": PASSWORD}
        )

    samples: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    n = requests + 1  # the first of each is the cold one

    for _ in range(n):
        elapsed, borrower = register("borrower")
        samples["register"].append(elapsed)
    auth = {"Authorization": f"Bearer {borrower['token']}"}
    _, lender = register("lender")
    lender_auth = {"Authorization": f"Bearer {lender['token']}"}
    for _ in range(n):
        elapsed, _ = call(200, "POST", "/auth/login", body={"email": lender["user"]["email"], "password": PASSWORD})
        samples["login"].append(elapsed)
    loans = []
    for _ in range(n):
        elapsed, loan = call(
            201,
            "POST",
            "/loans",
            headers=auth,
            body={
                "amount": 1000,
                "interest_rate": 6.5,
                "term": "12 months",
                "purpose": "Benchmark",
                "lenders": [{"email": lender["user"]["email"], "contribution_amount": 1000}],
            },
        )
        samples["create loan"].append(elapsed)
        loans.append(loan["loan_id"])
    for loan_id in loans:
        elapsed, _ = call(
            200,
            "PUT",
            f"/lender/accept/{loan_id}",
            headers=lender_auth,
            body=ACH,
            resource="/lender/accept/{loan_id}",
            path_parameters={"loan_id": loan_id},
        )
        samples["accept"].append(elapsed)
    for _ in range(n):
        elapsed, _ = call(
            200,
            "GET",
            f"/loans/{loans[0]}",
            headers=auth,
            resource="/loans/{loan_id}",
            path_parameters={"loan_id": loans[0]},
        )
        samples["get loan"].append(elapsed)
    for _ in range(n):
        elapsed, _ = call(200, "GET", "/user/dashboard", headers=auth)
        samples["dashboard"].append(elapsed)

    timings["first_ms"] = {op: values[0] for op, values in samples.items()}
    timings["warm_ms"] = {op: statistics.median(values[1:]) for op, values in samples.items()}
    return timings


def baseline_child() -> dict:
    started = time.perf_counter()
    import boto3

    imported = time.perf_counter()
    boto3.resource("dynamodb")
    boto3.client("ssm")
    return {"imports_ms": (imported - started) * 1000, "init_ms": (time.perf_counter() - imported) * 1000}


# -- parent: the local stack and the runs ------------------------------------------------------


def run_child(env: dict[str, str], requests: int, artifact: Path | None, baseline: bool = False) -> dict:
    args = [sys.executable]
    if artifact is not None:
        args.append("-S")  # no site-packages: only the artifact and the standard library
    args += [str(Path(__file__).resolve()), "--child", "--requests", str(requests)]
    if baseline:
        args.append("--baseline")
    if artifact is not None:
        args += ["--artifact", str(artifact)]
    result = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(runs: list[dict], baselines: list[dict]) -> str:
    def median(values: list[float]) -> str:
        return f"{statistics.median(values):8.1f}"

    total = statistics.median([r["imports_ms"] + r["init_ms"] for r in runs])
    base = statistics.median([r["imports_ms"] + r["init_ms"] for r in baselines])
    lines = [
        f"{'phase':<34}{'median ms':>10}   (runs: {len(runs)})",
        f"{'imports (service.http.app, mangum)':<34}{median([r['imports_ms'] for r in runs]):>10}",
        f"{'init (import lambda_handler)':<34}{median([r['init_ms'] for r in runs]):>10}",
        f"{'imports + init':<34}{total:>10.1f}",
        f"{'baseline: import boto3':<34}{median([r['imports_ms'] for r in baselines]):>10}",
        f"{'baseline: resource + ssm client':<34}{median([r['init_ms'] for r in baselines]):>10}",
        f"{'baseline: imports + init':<34}{base:>10.1f}",
        f"{'imports + init ÷ baseline':<34}{'×' + format(total / base, '.2f'):>10}",
        f"{'first request (register)':<34}{median([r['first_ms']['register'] for r in runs]):>10}",
        "",
        f"{'operation':<16}{'first call':>12}{'warm median':>13}",
    ]
    for op in OPERATIONS:
        lines.append(
            f"{op:<16}{median([r['first_ms'][op] for r in runs]):>12}{median([r['warm_ms'][op] for r in runs]):>13}"
        )
    return "\n".join(lines)


def parent(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    from devstack.aws import LocalAws, aws_environment, client, deploy_database_stack
    from devstack.mailbox import LOCAL_SENDER, verify_sender

    project, stage = "bench", "local"
    with LocalAws() as aws:
        deploy_database_stack(aws.endpoint_url, stage=stage, project=project)
        verify_sender(aws.endpoint_url)
        # The two secrets the application stack makes: the signing keys and the derivation root.
        secrets_manager = client("secretsmanager", aws.endpoint_url)
        keys = json.dumps({"kid": "initial", "key": secrets.token_urlsafe(48)})
        keys_arn = secrets_manager.create_secret(Name=f"{project}/{stage}/jwt-keys", SecretString=keys)["ARN"]
        root = secrets.token_urlsafe(48)
        root_arn = secrets_manager.create_secret(Name=f"{project}/{stage}/derivation-key", SecretString=root)["ARN"]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JWT_", "PYTHON"))},
            **aws_environment(aws.endpoint_url),
            "TABLE_PREFIX": f"{project}-{stage}",
            "JWT_KEYS_SECRET_ID": keys_arn,
            "DERIVATION_SECRET_ID": root_arn,
            "BCRYPT_ROUNDS": str(args.bcrypt_rounds),
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
            "EMAIL_SENDER": LOCAL_SENDER,
            "APP_BASE_URL": "https://app.example.com",
            # Its accounts are verified on registration: it measures requests, not emails.
            "AUTO_VERIFY_EMAIL_DOMAIN": "example.com",
        }
        if args.artifact is None:
            env["PYTHONPATH"] = str(ROOT)
        artifact = args.artifact.resolve() if args.artifact else None
        source = f"artifact {args.artifact}" if artifact else "this virtualenv"
        print(
            f"Cold start of service.lambdas.http ({source}), {args.runs} fresh processes,"
            f" {args.requests} warm requests per operation, bcrypt cost {args.bcrypt_rounds};"
            f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        run_child(env, 2, artifact)  # warms moto; not counted
        runs, baselines = [], []
        for _ in range(args.runs):  # alternately, so both see the same machine
            runs.append(run_child(env, args.requests, artifact))
            baselines.append(run_child(env, args.requests, artifact, baseline=True))
    print(table(runs, baselines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes (default 5)")
    parser.add_argument("--requests", type=int, default=10, help="warm requests per operation (default 10)")
    parser.add_argument("--bcrypt-rounds", type=int, default=12, help="bcrypt cost (default 12, the service's)")
    parser.add_argument("--artifact", type=Path, help="import the service from this staged artifact")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        if args.artifact is not None:
            sys.path.insert(0, str(args.artifact))
            sys.path.append(str(ROOT))  # devstack.apigateway only: the standard library and nothing else
        print(json.dumps(baseline_child() if args.baseline else child(args.requests)))
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
