"""Part of `make bench`: the service's CPU per warm request through the Lambda handler, against
a floor that makes the same AWS calls from a bare loop. Not a test.

    python -m benchmarks.service_cpu [--requests 400] [--warmup 40]

moto serves DynamoDB and KMS from this process (the real database template); a fresh child
process imports `service.lambdas.http` as Lambda's init would and measures only itself, with
`time.process_time()` (every thread of the process) around each call of
`service.lambdas.http.handler` with a REST API (v1) proxy event, at the production log level:
- accept: `PUT /lender/accept/{id}`, each request a new loan that it fully funds;
- get loan: `GET /loans/{id}` by its borrower (the loan, the caller's participation, the
  participants).
The floor replays the requests the handler sent to AWS for one such accept and one such read,
as botocore serialised them, on a plain low-level client with the service's botocore Config
(ids swapped for each floor loan's, a new ClientRequestToken), so it pays exactly the AWS
calls and nothing of the service. Service and floor requests alternate, so both see the same
machine; the figures are medians over `--requests` of each after `--warmup`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password 123"
ACH = {
    "bank_name": "First Example Bank",
    "account_type": "checking",
    "routing_number": "011000015",
    "account_number": "000123456789",
}


def _blobs(value: Any) -> Any:
    """DynamoDB JSON as sent (binary values base64 text) back to client parameters (bytes)."""
    if isinstance(value, dict):
        if set(value) == {"B"} and isinstance(value["B"], str):
            return {"B": base64.b64decode(value["B"])}
        return {key: _blobs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_blobs(item) for item in value]
    return value


class Recorder:
    """The AWS requests a block of code sends through some clients: (client, operation, body)."""

    def __init__(self, clients: list[Any]):
        self.clients, self.sent = clients, []

    def _record(self, model: Any, params: dict[str, Any], client: Any, **_: Any) -> None:
        self.sent.append((client, model.name, params["body"].decode()))

    def __enter__(self) -> Recorder:
        for client in self.clients:
            client.meta.events.register("before-call", self._record_for(client), unique_id=f"rec-{id(client)}")
        return self

    def _record_for(self, client: Any) -> Any:
        return lambda **kwargs: self._record(client=client, **kwargs)

    def __exit__(self, *exc: Any) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", unique_id=f"rec-{id(client)}")


def child(requests: int, warmup: int, out: Path) -> None:
    import boto3
    from botocore import xform_name

    import service.lambdas.http as lambda_http
    from devstack.apigateway import LambdaContext, rest_event
    from service.store.aws import BOTO_CONFIG

    if lambda_http.init_error:
        raise SystemExit(f"init failed: {lambda_http.init_error}")
    services = lambda_http.services

    def call(method: str, path: str, token: str | None = None, body: Any = None, route: str | None = None):
        event = rest_event(
            method,
            path,
            body=body,
            headers={"Authorization": f"Bearer {token}"} if token else None,
            resource=route,
            path_parameters={"loan_id": path.rsplit("/", 1)[1]} if route else None,
        )
        context = LambdaContext()
        started = time.process_time()
        raw = lambda_http.handler(event, context)
        cpu = time.process_time() - started
        if raw["statusCode"] not in (200, 201):
            raise SystemExit(f"{method} {path}: {raw['statusCode']} {raw['body'][:300]}")
        return cpu, json.loads(raw["body"])

    def register(label: str) -> dict:
        email = f"{label}-{uuid.uuid4().hex[:12]}@example.com"
        return call("POST", "/auth/register", body={"name": label.title(), "email": email, "password": PASSWORD})[1]

    borrower, lender = register("borrower"), register("lender")
    body = {"amount": 100, "interest_rate": 6.5, "term": "12 months", "purpose": "Benchmark"}
    body["lenders"] = [{"email": lender["user"]["email"], "contribution_amount": 100}]
    total = warmup + requests
    loans = [call("POST", "/loans", borrower["token"], body)[1]["loan_id"] for _ in range(2 * total + 2)]
    template, spare, mine, floors = loans[0], loans[1], loans[2 : total + 2], loans[total + 2 :]

    def accept(loan_id: str) -> float:
        return call("PUT", f"/lender/accept/{loan_id}", lender["token"], ACH, "/lender/accept/{loan_id}")[0]

    def read(loan_id: str) -> float:
        return call("GET", f"/loans/{loan_id}", borrower["token"], route="/loans/{loan_id}")[0]

    with Recorder([services.store.db.client, services.vault.client]) as accepted:
        accept(template)
    with Recorder([services.store.db.client, services.vault.client]) as read_once:
        read(template)

    dynamodb, kms = boto3.client("dynamodb", config=BOTO_CONFIG), boto3.client("kms", config=BOTO_CONFIG)
    same = {id(services.store.db.client): dynamodb, id(services.vault.client): kms}

    def replay(sent: list, loan_id: str) -> list:
        calls = []
        for client, operation, text in sent:
            params = _blobs(json.loads(text.replace(template, loan_id)))
            if "ClientRequestToken" in params:
                params["ClientRequestToken"] = str(uuid.uuid4())
            calls.append((getattr(same[id(client)], xform_name(operation)), params))
        return calls

    def floor(calls: list) -> float:
        started = time.process_time()
        for method, params in calls:
            method(**params)
        return time.process_time() - started

    reads = replay(read_once.sent, template)
    floor(reads), floor(replay(accepted.sent, spare))  # connect and warm the floor's clients
    samples: dict[str, list[float]] = {name: [] for name in ("accept", "floor accept", "get loan", "floor get loan")}
    for i in range(total):
        prepared = replay(accepted.sent, floors[i])
        timed = {
            "accept": accept(mine[i]),
            "floor accept": floor(prepared),
            "get loan": read(template),
            "floor get loan": floor(reads),
        }
        if i >= warmup:
            for name, seconds in timed.items():
                samples[name].append(seconds * 1000)
    calls = {"accept": [op for _, op, _ in accepted.sent], "get loan": [op for _, op, _ in read_once.sent]}
    medians = {name: statistics.median(values) for name, values in samples.items()}
    out.write_text(json.dumps({"calls": calls, "median_ms": medians, "requests": requests}))


def parent(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(ROOT))
    from devstack.aws import LocalAws, aws_environment, deploy_database_stack
    from devstack.mailbox import LOCAL_SENDER, verify_sender

    with LocalAws() as aws, tempfile.TemporaryDirectory() as scratch:
        deploy_database_stack(aws.endpoint_url, stage="local", project="cpu")
        verify_sender(aws.endpoint_url)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JWT_", "PYTHON"))},
            **aws_environment(aws.endpoint_url),
            "PYTHONPATH": str(ROOT),
            "TABLE_PREFIX": "cpu-local",
            "JWT_SECRET": uuid.uuid4().hex * 2,
            "BCRYPT_ROUNDS": "4",
            "LOG_LEVEL": "INFO",
            "EMAIL_SENDER": LOCAL_SENDER,
            "APP_BASE_URL": "https://app.example.com",
            "AUTO_VERIFY_EMAIL_DOMAIN": "example.com",
        }
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks.service_cpu", "--child", str(out)]
        command += ["--requests", str(args.requests), "--warmup", str(args.warmup)]
        # The service's log lines (one JSON line per request, as in Lambda) go nowhere.
        subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, timeout=1800)
        return dict(json.loads(out.read_text()))


def table(result: dict) -> str:
    median = result["median_ms"]
    lines = [
        f"Service CPU per warm request through service.lambdas.http.handler, against a floor making the same"
        f" AWS calls on a low-level client (medians of {result['requests']} each; load average"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}):",
        "",
        "| request | AWS calls | service ms | floor ms | service ÷ floor |",
        "|---|---|---|---|---|",
    ]
    for name in ("accept", "get loan"):
        service, floor = median[name], median[f"floor {name}"]
        calls = ", ".join(result["calls"][name])
        lines.append(f"| {name} | {calls} | {service:.2f} | {floor:.2f} | ×{service / floor:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="measured requests of each kind (default 400)")
    parser.add_argument("--warmup", type=int, default=40, help="requests of each kind left out first (default 40)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.requests, args.warmup, args.child)
        return 0
    print(table(parent(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
