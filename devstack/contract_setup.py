"""What the contract run needs before Schemathesis starts: two verified peers, loans to
accept, funded loans to repay, alice's own loans with documents to complete and delete, and
the fixtures file its hooks (`devstack/contract_hooks.py`) read.

Everything is made through the API, so a deployed stack gets the same: the peers, and loans
a third account creates inviting alice, as whom every generated request is sent (a third, so
that bob, whom the authorization check replays alice's reads as, has no part in them). Only the local stack
adds accounts that cannot be had through the API without waiting: unverified ones whose
link was sent over a minute ago, which may ask for a new one (`POST /auth/resend-verification`
refuses a second link within a minute).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import jwt

if TYPE_CHECKING:
    from service.bootstrap import Services

RESULTS = Path(__file__).resolve().parent.parent / "results" / "contract"
PEERS_FILE = RESULTS / "peers.json"
FIXTURES_FILE = RESULTS / "fixtures.json"
PEER_PASSWORD = "contract-peer-password"
PEERS = ("alice", "bob")
# `user` of [auth.wfc] in schemathesis.toml.
FUZZING_USER = "alice"
FUNDED_LOANS = 3
_fixtures: dict | None = None


def _register(base_url: str, name: str, email: str, mailbox_url: str | None, domain: str) -> str:
    """A verified account's token: verified with the emailed token, or at registration on a
    stage that verifies `domain`."""
    from devstack.mailbox import fetch, token_in

    response = httpx.post(
        f"{base_url}/auth/register", timeout=30, json={"name": name, "email": email, "password": PEER_PASSWORD}
    )
    response.raise_for_status()
    if response.json()["user"]["email_verified"]:
        return response.json()["token"]
    token = token_in(fetch(mailbox_url, email)) if mailbox_url else None
    if token is None:
        raise SystemExit(
            f"{email} is not verified: deploy the stage with AutoVerifyEmailDomain={domain} "
            "(README, Deploy) or give CONTRACT_EMAIL_DOMAIN."
        )
    verified = httpx.post(f"{base_url}/auth/verify-email", json={"token": token}, timeout=30)
    verified.raise_for_status()
    return verified.json()["token"]


def _login_entry(name: str, email: str) -> dict:
    """A Web Fuzzing Commons auth entry: Schemathesis logs in as this peer itself."""
    return {
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


def _loans_inviting(base_url: str, borrower_token: str, lender_email: str, count: int, amount: int = 100) -> list[str]:
    ids = []
    with httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {borrower_token}"}) as api:
        for number in range(count):
            response = api.post(
                "/loans",
                json={
                    "amount": amount + number,
                    "interest_rate": 5,
                    "term": "6 months",
                    "purpose": "Contract fixture",
                    "lenders": [{"email": lender_email, "contribution_amount": amount + number}],
                },
            )
            response.raise_for_status()
            ids.append(response.json()["loan_id"])
    return ids


def _funded_loans(base_url: str, borrower_token: str, lender_token: str, lender_email: str, count: int) -> list[str]:
    """ACTIVE loans of the borrower, funded by the lender: large enough to take every small
    repayment the run records."""
    ids = _loans_inviting(base_url, borrower_token, lender_email, count, amount=1_000_000)
    ach = {"bank_name": "Fixture Bank", "account_type": "checking", "routing_number": "011000015"}
    for loan_id in ids:
        httpx.put(
            f"{base_url}/lender/accept/{loan_id}",
            timeout=30,
            headers={"Authorization": f"Bearer {lender_token}"},
            json={**ach, "account_number": "000123456789"},
        ).raise_for_status()
    return ids


# A loan holds at most this many documents (service.domain.documents.MAX_DOCUMENTS).
DOCUMENTS_PER_LOAN = 20
PDF = b"%PDF-1.7\n%%EOF\n"


def _documents(base_url: str, token: str, lender_email: str, count: int) -> dict[str, list]:
    """Loans of the caller (alice) to declare documents on and list, and `count` documents
    uploaded and waiting to be completed, and as many declared, to be deleted: real uploads,
    through the pre-signed forms the API returns."""
    per_pool = -(-count // DOCUMENTS_PER_LOAN)  # loans that hold `count` documents
    loans = _loans_inviting(base_url, token, lender_email, 2 * per_pool + 3)
    body = {"file_name": "contract-fixture.pdf", "content_type": "application/pdf", "size_bytes": len(PDF)}
    pools: dict[str, list] = {"uploaded": [], "declared": []}
    with httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as api:
        for offset, (name, pool) in enumerate(pools.items()):
            for number in range(count):
                loan_id = loans[offset * per_pool + number // DOCUMENTS_PER_LOAN]
                response = api.post(f"/loans/{loan_id}/documents", json=body)
                response.raise_for_status()
                created = response.json()
                if name == "uploaded":
                    form = created["upload"]
                    httpx.post(form["url"], data=form["fields"], files={"file": ("f.pdf", PDF)}).raise_for_status()
                pool.append([loan_id, created["document_id"]])
    return {
        "document_loans": loans[2 * per_pool :],
        "uploaded_documents": pools["uploaded"],
        "declared_documents": pools["declared"],
    }


def backdated_unverified_accounts(services: Services, count: int, domain: str = "example.com") -> list[str]:
    """Tokens of unverified accounts whose verification email went out two minutes ago, so each
    may ask for one new link. Made in-process through the service's own use case with an
    earlier clock: the API has no way to do it but waiting."""
    from service.bootstrap import bootstrap
    from service.clock import SystemClock
    from service.domain.verification import RESEND_INTERVAL_SECONDS

    class Earlier(SystemClock):
        def now(self) -> float:
            return super().now() - 2 * RESEND_INTERVAL_SECONDS

    earlier = bootstrap(services.settings, store=services.store, mailer=services.mailer, clock=Earlier())
    return [
        earlier.accounts.register(
            "Unverified", f"contract-unverified-{uuid.uuid4().hex[:10]}@{domain}", PEER_PASSWORD
        ).token
        for _ in range(count)
    ]


def prepare(base_url: str, mailbox_url: str | None, domain: str, loans: int, unverified: list[str]) -> dict:
    """Register the peers, write their logins (WFC) and the hooks' fixtures; return the fixtures."""
    emails = {name: f"contract-{name}-{uuid.uuid4().hex[:10]}@{domain}" for name in [*PEERS, "carol"]}
    tokens = {name: _register(base_url, name.title(), email, mailbox_url, domain) for name, email in emails.items()}
    borrower = tokens["carol"]
    # Carol also lends, and opted in to the lenders' search: what `searchLenders` can find.
    searchable = f"Carol Lender {uuid.uuid4().hex[:8]}"
    httpx.patch(
        f"{base_url}/user/profile",
        timeout=30,
        headers={"Authorization": f"Bearer {borrower}"},
        json={"name": searchable, "searchable": True},
    ).raise_for_status()
    fixtures = {
        "base_url": base_url,
        "mailbox_url": mailbox_url,
        "email_domain": domain,
        "peers": {name: {"email": emails[name], "password": PEER_PASSWORD} for name in PEERS},
        # Whose bearer tokens the run's auth provider sends (`sub`), as against generated ones.
        "peer_ids": {name: jwt.decode(tokens[name], options={"verify_signature": False})["sub"] for name in PEERS},
        # Loans carol created inviting alice, whom every generated request is sent as.
        "invited_loans": {FUZZING_USER: _loans_inviting(base_url, borrower, emails[FUZZING_USER], loans)},
        # ... and loans alice borrowed, which carol funded: to read and repay.
        "funded_loans": {
            FUZZING_USER: _funded_loans(base_url, tokens[FUZZING_USER], borrower, emails["carol"], FUNDED_LOANS)
        },
        # ... and alice's own loans still raising funds (inviting carol): to cancel or invite more to.
        "pending_loans": _loans_inviting(base_url, tokens[FUZZING_USER], emails["carol"], loans),
        "unverified_tokens": unverified,
        "searchable_name": searchable,
        # Alice's own loans (inviting carol) and documents on them.
        **_documents(base_url, tokens[FUZZING_USER], emails["carol"], loans // 2),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    PEERS_FILE.write_text(
        json.dumps({"schemaVersion": "1.0.0", "auth": [_login_entry(name, emails[name]) for name in PEERS]}, indent=2)
    )
    FIXTURES_FILE.write_text(json.dumps(fixtures, indent=2))
    return fixtures


def fixtures() -> dict:
    """What `prepare` wrote, read once (in the Schemathesis process, by its hooks)."""
    global _fixtures
    if _fixtures is None:
        _fixtures = json.loads(FIXTURES_FILE.read_text())
    return _fixtures
