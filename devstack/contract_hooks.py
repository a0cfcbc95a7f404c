"""Schemathesis hooks of the contract run (loaded through `hooks` in schemathesis.toml).

Some valid requests cannot be generated from the schema alone: a routing number's checksum,
a password that matches an account, a loan the caller is invited to, a token that was
emailed or issued. Without them those operations only ever answer 4xx and their logic goes
untested.
So:

- `aba-routing-number`, the spec's format for routing numbers, generates numbers with a
  valid checksum (the server checks them with the same library, python-stdnum).
- Before a positive case of a non-stateful phase is sent, the first of each phase and every
  second one after that gets real data from the fixtures `devstack/contract_setup.py` made:
  a peer's credentials for `loginUser`, contributions covering the amount for `createLoan`
  (and fresh invitees), a loan the caller is invited to (each used once) for
  `acceptLoan` and `declineLoan`, one of the caller's funded loans for `getLoanSchedule`,
  `getRepayments` and `recordRepayment` (repaying a cent), a freshly emailed token for
  `verifyEmail` (local stack only: there is no mailbox to read on a deployed one), an account
  that may ask for a new link for `resendVerification` (local stack only), the start of a
  searchable lender's name for `searchLenders`, one of the caller's own loans for
  `createDocument` and `listDocuments`, and a document of theirs (each used once) for
  `completeDocument` (its file uploaded) and `deleteDocument`; a refresh token of alice's for
  `refreshSession`, and of an account of its own for `logoutUser` (a logout refuses its
  user's access tokens, and alice's are every other case's); a freshly emailed reset token of
  an account of its own for `resetPassword` (local stack only). The other cases keep their
  generated values, so
  made-up loans and tokens are still sent and must still be refused. Stateful sequences get
  nothing: they reach these operations through the spec's links or not at all.
- `changePassword` is the exception: every case of it, in every phase, is sent as an account
  of its own (a wrong current password counts toward its account's login lockout, a right
  one refuses its access tokens: alice's would lock her out or end the run), and the positive
  cases on their turn, in the stateful phase too, get that account's real password.
- Each document a case declares (`createDocument`, 201) gets its file uploaded, as a client
  would, so completing it can succeed.
- In stateful sequences, a generated `cursor` is dropped: a sequence follows a link to a
  list's first page (made-up cursors are refused, and the other phases send them).
- A well-formed generated `Idempotency-Key` becomes a fresh one, as a client's would be for a
  new request (generated keys repeat across unrelated requests; replays and reuse are
  tested in tests/api/test_idempotency.py).
- Every response's status is counted per operation and phase, and written to
  `results/contract/reach.json` when the run ends, for the report of what got a 2xx.
"""

from __future__ import annotations

import atexit
import itertools
import json
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import MutableMapping
from pathlib import Path

import httpx
import schemathesis
from hypothesis import strategies as st
from stdnum.us import rtn

RESULTS = Path(__file__).resolve().parent.parent / "results" / "contract"
FIXTURES_FILE = RESULTS / "fixtures.json"
REACH_FILE = RESULTS / "reach.json"
_lock = threading.Lock()
_fixtures: dict | None = None
_seen: defaultdict[tuple[str, str], int] = defaultdict(int)
_funded_turns = itertools.count()
# {operation label: {phase: {"2xx": n, "4xx": n, ..., "fixtures": n}}}
_reach: defaultdict[str, defaultdict[str, defaultdict[str, int]]] = defaultdict(
    lambda: defaultdict(lambda: defaultdict(int))
)

# The spec's pattern for Idempotency-Key.
VALID_KEY = re.compile(r"[!-~]([ -~]*[!-~])?")

schemathesis.openapi.format(
    "aba-routing-number",
    st.text(alphabet="0123456789", min_size=8, max_size=8).map(lambda digits: digits + rtn.calc_check_digit(digits)),
)


def fixtures() -> dict:
    global _fixtures
    if _fixtures is None:
        _fixtures = json.loads(FIXTURES_FILE.read_text())
    return _fixtures


def _login(case) -> bool:
    if not isinstance(case.body, dict):
        return False
    peer = fixtures()["peers"]["alice"]
    case.body = {"email": peer["email"], "password": peer["password"]}
    return True


def _invited_loan(case) -> bool:
    """A loan the caller is invited to and has not answered, in place of the generated id."""
    if not isinstance(case.path_parameters, dict):
        return False
    with _lock:
        pool = fixtures()["invited_loans"].get(case.auth_identity or "", [])
        loan_id = pool.pop(0) if pool else None
    if loan_id is None:
        return False
    case.path_parameters["loan_id"] = loan_id
    return True


def _funded_loan(case) -> bool:
    """One of the caller's funded loans (in turn), in place of the generated id; a repayment
    of a cent, so that the loans never run out of what they owe."""
    if not isinstance(case.path_parameters, dict):
        return False
    with _lock:
        pool = fixtures()["funded_loans"].get(case.auth_identity or "", [])
        loan_id = pool[next(_funded_turns) % len(pool)] if pool else None
    if loan_id is None:
        return False
    case.path_parameters["loan_id"] = loan_id
    if isinstance(case.body, dict):
        case.body = {**case.body, "amount": 0.01}
    return True


def _own_loan(case) -> bool:
    """One of alice's own loans (taken in turn), to declare documents on or list them."""
    if not isinstance(case.path_parameters, dict):
        return False
    with _lock:
        pool = fixtures()["document_loans"]
        pool.append(pool.pop(0))
        case.path_parameters["loan_id"] = pool[-1]
    return True


def _document(pool_name: str):
    """A document of alice's (each used once): uploaded and waiting to be completed, or declared."""

    def substitute(case) -> bool:
        if not isinstance(case.path_parameters, dict):
            return False
        with _lock:
            pool = fixtures()[pool_name]
            found = pool.pop(0) if pool else None
        if found is None:
            return False
        case.path_parameters["loan_id"], case.path_parameters["document_id"] = found
        return True

    return substitute


def _covered_loan(case) -> bool:
    """The generated loan request with its lenders' contributions covering its amount (the one
    rule the schema cannot say) and fresh invitee emails (never the borrower, never twice)."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("lenders"), list) or not body["lenders"]:
        return False
    amount, domain = body.get("amount"), fixtures()["email_domain"]
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return False
    lenders = [
        {**lender, "email": f"contract-invitee-{uuid.uuid4().hex[:10]}@{domain}", "contribution_amount": amount}
        for lender in body["lenders"]
        if isinstance(lender, dict)
    ]
    case.body = {**body, "lenders": lenders}
    return bool(lenders)


def _accept(case) -> bool:
    return isinstance(case.body, dict) and _invited_loan(case)


def _verify(case) -> bool:
    from devstack.mailbox import fetch, token_in

    data = fixtures()
    if not data["mailbox_url"] or not isinstance(case.body, dict):
        return False
    email = f"contract-verify-{uuid.uuid4().hex[:10]}@{data['email_domain']}"
    httpx.post(
        f"{data['base_url']}/auth/register",
        timeout=30,
        json={"name": "Verifier", "email": email, "password": uuid.uuid4().hex},
    ).raise_for_status()
    token = token_in(fetch(data["mailbox_url"], email))
    if token is None:
        return False
    case.body = {"token": token}
    return True


def _own_account() -> dict:
    """A new account's session and password, made through the API."""
    data = fixtures()
    password = uuid.uuid4().hex
    email = f"contract-own-{uuid.uuid4().hex[:10]}@{data['email_domain']}"
    response = httpx.post(
        f"{data['base_url']}/auth/register", timeout=30, json={"name": "Own", "email": email, "password": password}
    )
    response.raise_for_status()
    return {**response.json(), "email": email, "password": password}


def _refresh(case) -> bool:
    if not isinstance(case.body, dict):
        return False
    data, peer = fixtures(), fixtures()["peers"]["alice"]
    login = httpx.post(f"{data['base_url']}/auth/login", timeout=30, json=peer)
    login.raise_for_status()
    case.body = {"refresh_token": login.json()["refresh_token"]}
    return True


def _logout(case) -> bool:
    if not isinstance(case.body, dict):
        return False
    case.body = {"refresh_token": _own_account()["refresh_token"]}
    return True


def _reset(case) -> bool:
    from devstack.mailbox import fetch, token_in

    data = fixtures()
    if not data["mailbox_url"] or not isinstance(case.body, dict):
        return False
    email = _own_account()["email"]
    httpx.post(f"{data['base_url']}/auth/forgot-password", timeout=30, json={"email": email}).raise_for_status()
    token = token_in(fetch(data["mailbox_url"], email), "reset-password")
    if token is None:
        return False
    case.body = {**case.body, "token": token}
    return True


def _as_own_account(case, real_password: bool) -> bool:
    """`changePassword` as an account of its own; with its real password if `real_password`."""
    if not isinstance(case.headers, MutableMapping) or "Authorization" not in case.headers:
        return False
    account = _own_account()
    case.headers["Authorization"] = f"Bearer {account['token']}"
    if real_password and isinstance(case.body, dict):
        case.body = {**case.body, "current_password": account["password"]}
        return True
    return False


def _resend(case) -> bool:
    with _lock:
        pool = fixtures()["unverified_tokens"]
        token = pool.pop(0) if pool else None
    if token is None or "Authorization" not in case.headers:
        return False
    case.headers["Authorization"] = f"Bearer {token}"
    return True


def _search(case) -> bool:
    """The start of a searchable lender's name (any case), so a search finds someone."""
    if not isinstance(case.query, dict):
        return False
    case.query["q"] = fixtures()["searchable_name"][:12].upper()
    return True


SUBSTITUTES = {
    "createLoan": _covered_loan,
    "loginUser": _login,
    "acceptLoan": _accept,
    "declineLoan": _invited_loan,
    "verifyEmail": _verify,
    "resendVerification": _resend,
    "getLoanSchedule": _funded_loan,
    "recordRepayment": _funded_loan,
    "getRepayments": _funded_loan,
    "refreshSession": _refresh,
    "logoutUser": _logout,
    "resetPassword": _reset,
    "searchLenders": _search,
    "createDocument": _own_loan,
    "listDocuments": _own_loan,
    "completeDocument": _document("uploaded_documents"),
    "deleteDocument": _document("declared_documents"),
}


def _phase(case) -> str:
    return case.meta.phase.name.value if case.meta is not None else "unknown"


@schemathesis.hook
def before_call(context, case, kwargs):
    key = case.headers.get("Idempotency-Key") if isinstance(case.headers, MutableMapping) else None
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        # A client sends a new key with each new request; generated keys repeat ("0", "00")
        # across unrelated requests, which the API rightly refuses (422) or holds (409).
        # Malformed keys are left as they are, for the API to refuse.
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    phase = _phase(case)
    if phase == "stateful" and isinstance(case.query, MutableMapping):
        # A sequence follows a link to a list's first page: a cursor is one a page returned, and
        # a made-up one (refused, 400) is the other phases' to send.
        case.query.pop("cursor", None)
    operation_id = case.operation.definition.raw.get("operationId")
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if operation_id == "changePassword":
        filled = _as_own_account(case, positive and _turn(case))
    elif operation_id in SUBSTITUTES and positive and phase != "stateful" and _turn(case):
        filled = SUBSTITUTES[operation_id](case)
    else:
        return
    if filled:
        with _lock:
            _reach[case.operation.label][phase]["fixtures"] += 1


def _turn(case) -> bool:
    """Whether this positive case is one the hooks fill: the first of its operation and phase,
    and every second one after it."""
    with _lock:
        key = (case.operation.label, _phase(case))
        turn, _seen[key] = _seen[key], _seen[key] + 1
    return turn % 2 == 0


# Files the hooks upload for declared documents; larger declarations are left without one.
MAX_UPLOAD_BYTES = 1024 * 1024


def _upload_declared(case, response) -> None:
    """What a client does once it has declared a document: upload a file of the declared type
    and size through the returned form, so a sequence that completes it next (Schemathesis
    infers that link from `document_id`) completes a real upload. A declared size shorter than
    its type's signature cannot be such a file: it is left unuploaded (completing answers 409)."""
    from service.domain.documents import SIGNATURES

    signature, size = SIGNATURES[case.body["content_type"]], case.body["size_bytes"]
    if len(signature) <= size <= MAX_UPLOAD_BYTES:
        form = response.json()["upload"]
        content = signature + bytes(size - len(signature))
        httpx.post(form["url"], data=form["fields"], files={"file": ("upload", content)}, timeout=30).raise_for_status()


@schemathesis.hook
def after_call(context, case, response):
    if case.operation.definition.raw.get("operationId") == "createDocument" and response.status_code == 201:
        _upload_declared(case, response)
    with _lock:
        _reach[case.operation.label][_phase(case)][f"{response.status_code // 100}xx"] += 1


@atexit.register
def _write_reach() -> None:
    if _reach:
        REACH_FILE.parent.mkdir(parents=True, exist_ok=True)
        REACH_FILE.write_text(json.dumps(_reach, indent=2, sort_keys=True))
