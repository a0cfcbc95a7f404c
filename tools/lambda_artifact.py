"""What `tools.package_lambda` changes in the staged files to shorten cold starts, and its check
of the result: the spec as JSON, stubs for modules that dependencies import but the function
never runs, and the smoke check.

Each stub replaces the installed module or package with one that defines the few names its
importers read while being imported (classes that raise when made); any other name raises
an AttributeError that names the stub. The smoke check
(also run by tests/lambda/test_packaging.py) imports every function's handler from the staged
files alone, stubs included: the API's serves requests through routing, authentication, body
validation and the error handlers, and the notifier builds its services and reads a stream
record. Measured on a 2-core VM (`make bench-cold`, BENCHMARKS.md): the stubs save
about 35 ms of every cold start, the JSON spec ~8 ms and the skipped spec check ~35 ms.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

_RAISE = """

def __getattr__(name: str):
    raise AttributeError(f"{__name__}.{name}: not in the Lambda artifact (a stub, tools/lambda_artifact.py).")
"""
_CLASS = """

class {name}:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("{module}.{name}: not in the Lambda artifact (a stub, tools/lambda_artifact.py).")
"""

# The module (a dotted name) → why the function never runs it, and what its importers need.
STUBS: dict[str, tuple[str, str]] = {
    "starlette.testclient": (
        "Connexion imports Starlette's test client for `App.test_client()`; it imports httpx and more.",
        _CLASS.format(module="starlette.testclient", name="TestClient"),
    ),
    "httpx": ("Connexion's security module imports it for OAuth2 token introspection; this API has bearer JWTs.", ""),
    "requests": ("Connexion's JSON Schema module imports it to fetch remote $refs; the spec has none.", ""),
    "jinja2": (
        "Connexion renders spec files as Jinja templates and serves Swagger UI's page with it; the"
        " function's app gets its spec as data and has no Swagger UI layer.",
        "\n\ndef pass_context(function):  # read by starlette.templating when it is imported\n    return function\n",
    ),
    "werkzeug.serving": (
        "werkzeug's package imports its development server; Connexion uses werkzeug's data structures.",
        _CLASS.format(module="werkzeug.serving", name="run_simple"),
    ),
    "werkzeug.test": (
        "werkzeug's package imports its test client; nothing in the function makes WSGI test requests.",
        _CLASS.format(module="werkzeug.test", name="Client"),
    ),
}


def write_stubs(target: Path) -> None:
    """Replace each module of `STUBS` installed in `target` by its stub."""
    for module, (why, body) in STUBS.items():
        path = target.joinpath(*module.split("."))
        if not (path.is_dir() or path.with_suffix(".py").is_file()):
            raise SystemExit(f"stub for {module}: it is not installed in {target}")
        if path.is_dir():
            shutil.rmtree(path)
        source = f'"""A stub, written by tools/lambda_artifact.py: {why}"""{body}{_RAISE}'
        path.with_suffix(".py").write_text(source, encoding="utf-8")


def write_spec(source: Path, target: Path) -> None:
    """`target`/openapi.json: the spec of `source` (YAML), after the check the function skips
    (Connexion's, against the OpenAPI schema: `service.http.routing.spec_checked_already`)."""
    with warnings.catch_warnings():  # Starlette's about its test client, imported by Connexion
        warnings.simplefilter("ignore")
        from connexion.spec import Specification

        from service.http.routing import load_spec

    spec = load_spec(source)
    Specification.from_dict(copy.deepcopy(spec))  # raises InvalidSpecification
    (target / "openapi.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")


# The handlers of the functions beside the API (infra/application.yaml names them all).
WORKER_HANDLERS = ["service.lambdas.expiry", "service.lambdas.notifier", "service.lambdas.rotation"]
# A stream batch the notifier answers without AWS: one change it skips, one event it cannot
# read (and reports back, as it would a failure to deliver).
SMOKE_RECORDS = [
    {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "1"}},
    {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "2", "NewImage": {"loan_id": {"S": "smoke"}}}},
]
# Requests the app answers without AWS: (method, path, body, status).
SMOKE_REQUESTS = [
    ("GET", "/no/such/path", None, 404),
    ("GET", "/user/profile", None, 401),
    ("POST", "/auth/login", '{"email": "a@example.com"}', 400),
]
_SMOKE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
import service.lambdas.http as h
assert h.init_error is None, h.init_error
assert h.__file__.startswith(sys.argv[1]), h.__file__
for method, path, body, status in json.loads(sys.argv[2]):
    headers = {"Host": "smoke.example.com", "Content-Type": "application/json"}
    context = {"requestId": "smoke", "stage": "dev", "httpMethod": method, "path": path, "identity": {}}
    event = {"resource": path, "path": path, "httpMethod": method, "headers": headers,
             "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
             "multiValueQueryStringParameters": None, "pathParameters": None, "requestContext": context,
             "body": body, "isBase64Encoded": False}
    answer = h.handler(event, None)
    assert answer["statusCode"] == status, (method, path, answer)
workers = {name: importlib.import_module(name) for name in json.loads(sys.argv[3])}
assert all(w.__file__.startswith(sys.argv[1]) and callable(w.handler) for w in workers.values())
answer = workers["service.lambdas.notifier"].handler({"Records": json.loads(sys.argv[4])}, None)
assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}, answer
print("smoke check: the handlers import from the artifact alone and serve")
"""


def smoke_check(target: Path) -> None:
    """Import the handlers from `target` alone; serve `SMOKE_REQUESTS` and `SMOKE_RECORDS`."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LOG_LEVEL": "CRITICAL",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TABLE_PREFIX": "smoke",
        "JWT_SECRET": "smoke-check-secret-of-at-least-32-bytes",
        "EMAIL_SENDER": "no-reply@example.com",
        "APP_BASE_URL": "https://app.example.com",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with tempfile.TemporaryDirectory() as cwd:
        # -S: no site-packages; -c runs with the empty cwd first on sys.path, then the stdlib.
        result = subprocess.run(
            [
                sys.executable,
                "-S",
                "-c",
                _SMOKE,
                str(target),
                *map(json.dumps, (SMOKE_REQUESTS, WORKER_HANDLERS, SMOKE_RECORDS)),
            ],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise SystemExit(f"smoke check failed:\n{result.stdout}{result.stderr}")
    print(result.stdout.strip())
