"""The contract run: Schemathesis against the local stack, or a deployed one.

    python -m devstack contract                 # CI profile, local stack (part of `make test`)
    python -m devstack contract --profile deep  # `make fuzz`
    python -m devstack contract --url https://…/dev

Every operation, every built-in check, all phases (examples, coverage, fuzzing, stateful
through the spec's links), as two registered users ("peers") for the object-level
authorization check. Settings and the few documented relaxations are in schemathesis.toml.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PEERS_FILE = ROOT / "results" / "contract" / "peers.json"
PROFILES = {
    # Seeded and bounded: the same cases on every CI run.
    "ci": ["--max-examples", "30", "--seed", "20261122", "--workers", "1", "--generation-database", "none"],
    # Longer and unseeded, to find what the CI profile does not.
    "deep": ["--max-examples", "500", "--max-time", "900", "--workers", "2"],
}
PEER_PASSWORD = "contract-peer-password"


def register_peers(base_url: str, mailbox_url: str | None = None, domain: str = "example.com") -> None:
    """Two fresh, verified users, and the Web Fuzzing Commons document that logs them in.
    They verify with the emailed token (`mailbox_url`: the local AWS endpoint), or, on a
    deployed stage, by registering at the domain it verifies on registration."""
    from devstack.mailbox import fetch, token_in

    entries = []
    for name in ("alice", "bob"):
        email = f"contract-{name}-{uuid.uuid4().hex[:10]}@{domain}"
        response = httpx.post(
            f"{base_url}/auth/register",
            timeout=30,
            json={"name": name.title(), "email": email, "password": PEER_PASSWORD},
        )
        response.raise_for_status()
        if not response.json()["user"]["email_verified"]:
            token = token_in(fetch(mailbox_url, email)) if mailbox_url else None
            if token is None:
                raise SystemExit(
                    f"{email} is not verified: deploy the stage with AutoVerifyEmailDomain={domain} "
                    "(README, Deploy) or give CONTRACT_EMAIL_DOMAIN."
                )
            httpx.post(f"{base_url}/auth/verify-email", json={"token": token}, timeout=30).raise_for_status()
        entries.append(
            {
                "name": name,
                "loginEndpointAuth": {
                    "verb": "POST",
                    "endpoint": "/auth/login",
                    "contentType": "application/json",
                    "payloadRaw": json.dumps({"email": email, "password": PEER_PASSWORD}),
                    "token": {
                        "extractFrom": "body",
                        "extractSelector": "/token",
                        "sendIn": "header",
                        "sendName": "Authorization",
                        "sendTemplate": "Bearer {token}",
                    },
                },
            }
        )
    PEERS_FILE.parent.mkdir(parents=True, exist_ok=True)
    PEERS_FILE.write_text(json.dumps({"schemaVersion": "1.0.0", "auth": entries}, indent=2))


def run_schemathesis(base_url: str, profile: str, mailbox_url: str | None = None) -> int:
    register_peers(base_url, mailbox_url, os.environ.get("CONTRACT_EMAIL_DOMAIN", "example.com"))
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
        "junit",
        "--report-dir",
        str(PEERS_FILE.parent),
        *PROFILES[profile],
    ]
    print(
        f"Contract run ({profile}): every operation, checks: all built-in, "
        f"phases: examples, coverage, fuzzing, stateful; as peers alice and bob.",
        flush=True,
    )
    return subprocess.call(command, cwd=ROOT)


def run_locally(profile: str) -> int:
    from devstack.api import BackgroundServer, local_environment
    from devstack.aws import LocalAws, deploy_database_stack
    from devstack.mailbox import verify_sender

    with LocalAws() as aws:
        deploy_database_stack(aws.endpoint_url)
        verify_sender(aws.endpoint_url)
        os.environ.update(local_environment(aws.endpoint_url))
        os.environ.update(BCRYPT_ROUNDS="4", LOG_LEVEL="CRITICAL")
        from service.http.app import create_app

        server = BackgroundServer(create_app())
        try:
            return run_schemathesis(server.base_url, profile, aws.endpoint_url)
        finally:
            server.stop()
