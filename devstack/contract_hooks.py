"""Schemathesis hooks of the contract run (loaded through `hooks` in schemathesis.toml).

Some valid requests cannot be generated from the schema alone: a routing number's checksum,
a password that matches an account, a loan the caller is invited to, a token that was
emailed or issued. Without them those operations only ever answer 4xx and their logic goes
untested.
So:

- `aba-routing-number`, the spec's format for routing numbers, generates numbers with a
  valid checksum (the server checks them with the same library, python-stdnum).
- Before a positive case of a non-stateful phase is sent, the first of each phase and every
  second one after that gets real data (`devstack/contract_substitutes.py` says which, and
  why); `changePassword`'s cases are all sent as an account of their own. The other cases
  keep their generated values, so made-up loans and tokens are still sent and must still be
  refused. Stateful sequences get nothing but `changePassword`'s account: they reach these
  operations through the spec's links or not at all.
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
import json
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import MutableMapping

import httpx
import schemathesis
from hypothesis import strategies as st
from stdnum.us import rtn

from devstack.contract_accounts import as_own_account
from devstack.contract_setup import RESULTS
from devstack.contract_substitutes import SUBSTITUTES

REACH_FILE = RESULTS / "reach.json"
_lock = threading.Lock()
_seen: defaultdict[tuple[str, str], int] = defaultdict(int)
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
        filled = as_own_account(case, positive and _turn(case))
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
