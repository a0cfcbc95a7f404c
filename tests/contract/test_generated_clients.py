"""Clients generated from openapi.yaml come out as frontends need them: the TypeScript types
(openapi-typescript) compile `clients/usage.ts` under `tsc --strict`, and the Python client
(openapi-python-client) has no `…Type0` models, types the known error codes and still reads
an error whose code was added after it was generated.

The npm generators are pinned in `clients/package-lock.json` and installed with `npm ci`
when the lock changes (`make clients` does the same); node and npm are required, never
skipped. Generated code is cached under build/clients/, one folder per spec and lock.
"""

import hashlib
import importlib
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = Path(__file__).resolve().parent / "clients"
SPEC = ROOT / "openapi.yaml"
PACKAGE = "marketplace_client"


def run(*command, cwd: Path = ROOT) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def npm_tools() -> Path:
    """`npm ci` into clients/node_modules unless it holds this very lock already."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: the generated-client test needs Node.js 20+ with npm "
            "(e.g. `apt-get install nodejs npm`), and the npm registry for `npm ci`."
        )
    lock = (CLIENTS / "package-lock.json").read_bytes()
    stamp = CLIENTS / "node_modules" / ".installed-lock-sha256"
    if not stamp.exists() or stamp.read_text() != hashlib.sha256(lock).hexdigest():
        run("npm", "ci", "--no-audit", "--no-fund", cwd=CLIENTS)
        stamp.write_text(hashlib.sha256(lock).hexdigest())
    return CLIENTS / "node_modules" / ".bin"


def cache_dir() -> Path:
    """build/clients/<hash of the spec and the generators' versions>/."""
    key = hashlib.sha256(
        SPEC.read_bytes() + (CLIENTS / "package-lock.json").read_bytes() + version("openapi-python-client").encode()
    ).hexdigest()[:16]
    out = ROOT / "build" / "clients" / key
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def typescript() -> Path:
    """The folder holding `api.d.ts`, openapi-typescript's types for the current spec."""
    tools, out = npm_tools(), cache_dir()
    if not (out / "api.d.ts").exists():
        run(tools / "openapi-typescript", SPEC, "-o", out / "api.tmp.d.ts")
        (out / "api.tmp.d.ts").rename(out / "api.d.ts")
    return out


@pytest.fixture(scope="module")
def generated() -> Path:
    """The folder holding openapi-python-client's client for the current spec, and its log."""
    out = cache_dir()
    if not (out / "python-generator.log").exists():
        shutil.rmtree(out / PACKAGE, ignore_errors=True)
        (out / "python.yaml").write_text("post_hooks: []\n")  # no formatter run: nothing to install
        log = run(
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            SPEC,
            "--output-path",
            out / PACKAGE,
            "--meta",
            "none",
            "--config",
            out / "python.yaml",
        )
        (out / "python-generator.log").write_text(log)
    return out


def test_typescript_usage_compiles_strictly(typescript, tmp_path):
    shutil.copy(typescript / "api.d.ts", tmp_path / "api.d.ts")
    shutil.copy(CLIENTS / "usage.ts", tmp_path / "usage.ts")
    run(
        CLIENTS / "node_modules" / ".bin" / "tsc",
        "--strict",
        "--noEmit",
        "--target",
        "es2022",
        "--module",
        "esnext",
        "--moduleResolution",
        "bundler",
        "usage.ts",
        cwd=tmp_path,
    )


def test_typescript_types_name_the_shared_schemas(typescript):
    types = (typescript / "api.d.ts").read_text()
    assert 'error: components["schemas"]["ErrorCode"] | string;' in types
    assert types.count('account_type: components["schemas"]["AccountType"];') == 2
    assert 'borrower: components["schemas"]["BorrowerDashboard"] | null;' in types
    assert "description?: string;" in types


def test_python_client_generates_without_warnings_or_type0_models(generated):
    log = (generated / "python-generator.log").read_text()
    assert "Warning" not in log and "Error" not in log, log
    models = generated / PACKAGE / "models"
    names = [match for path in models.glob("*.py") for match in re.findall(r"^class (\w+)", path.read_text(), re.M)]
    assert "Error" in names and "ErrorCode" in names and "AccountType" in names, names
    assert [name for name in names if re.search(r"Type\d+$", name)] == []
    assert not any(re.search(r"_type_\d+\.py$", path.name) for path in models.iterdir())


@pytest.fixture
def client(generated, monkeypatch):
    monkeypatch.syspath_prepend(str(generated))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    return importlib.import_module(f"{PACKAGE}.models")


def test_python_client_reads_known_and_later_error_codes(client):
    known = client.Error.from_dict({"error": "LOAN_NOT_FOUND", "message": "Loan not found.", "request_id": "r"})
    assert known.error is client.ErrorCode.LOAN_NOT_FOUND
    later = client.Error.from_dict({"error": "A_CODE_ADDED_LATER", "message": "New.", "details": {"amount": 1000.5}})
    assert later.error == "A_CODE_ADDED_LATER" and not isinstance(later.error, client.ErrorCode)
    assert later.details.additional_properties == {"amount": 1000.5}
    assert later.to_dict()["error"] == "A_CODE_ADDED_LATER"


def test_python_client_dashboards_are_models_or_none(client):
    empty = client.Dashboard.from_dict({"borrower": None, "lender": None})
    assert empty.borrower is None and empty.lender is None
    figures = {
        "loan_count": 1,
        "pending_count": 1,
        "active_count": 0,
        "cancelled_count": 0,
        "expired_count": 0,
        "total_requested": 100,
        "total_funded": 0,
        "pending_requested": 100,
        "active_principal": 0,
        "expected_interest": 0,
    }
    assert isinstance(
        client.Dashboard.from_dict({"borrower": figures, "lender": None}).borrower, client.BorrowerDashboard
    )


def test_python_client_shares_enums_and_leaves_description_optional(client):
    ach = {
        "bank_name": "B",
        "account_type": "savings",
        "routing_number_masked": "*****0015",
        "account_number_masked": "****6789",
    }
    assert client.AchSummary.from_dict(ach).account_type is client.AccountType.SAVINGS
    request = client.AcceptLoanRequest.from_dict(
        {"bank_name": "B", "account_type": "savings", "routing_number": "011000015", "account_number": "0001"}
    )
    assert request.account_type is client.AccountType.SAVINGS
    loan = client.CreateLoanRequest(amount=100, interest_rate=5, term="1 month", purpose="Tools", lenders=[])
    assert "description" not in loan.to_dict()
