"""What the load scenario's users share: the Locust process's run state, reading answers and
the expected outcomes of races. The users are in `borrower.py` and `lender.py` (on
`api_user.py`'s base); `locustfile.py` puts them together."""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter
from decimal import Decimal

log = logging.getLogger("loadtests")

# 409 codes that are the expected outcome of a race (with other lenders, the borrower, the
# deadline), per operation: they count as successes. Any other answer is a failure.
EXPECTED_CONFLICTS = {
    "accept": {"LOAN_FULLY_FUNDED", "ALREADY_ACCEPTED", "INVITATION_DECLINED", "LOAN_EXPIRED", "INVALID_STATE"},
    "decline": {"ALREADY_ACCEPTED", "INVITATION_DECLINED", "LOAN_EXPIRED", "INVALID_STATE"},
    "cancel": {"INVALID_STATE", "LOAN_EXPIRED"},
    "invite": {"INVALID_STATE", "LOAN_EXPIRED"},
    "repay": {"INVALID_STATE"},  # only when another repayment completed the loan first (`repayer.py`)
}
CLOSED_LOAN = {"CANCELLED", "EXPIRED"}


class RunState:
    """What this Locust process shares between its users."""

    run_id = ""
    pool: list[str] = []  # every lender account the run registered; loans invite from all of them
    active: list[str] = []  # the ones LenderUsers log in to (the rest never answer)
    next_lender = itertools.count()
    next_borrower = itertools.count()
    record = None  # the loans created and later invitations (JSON lines)
    retries = None  # the requests sent twice with one key (JSON lines, `keyed.py`)
    outcomes: Counter = Counter()
    short_deadlines = True  # until the API refuses one
    plans: Counter = Counter()


def planned(kind: str, share: float) -> bool:
    """Whether the next loan is one of the `share` that get `kind` (a cancel, a short
    deadline): every 1/share-th loan this process creates, so that even a short run gets its
    share. The kinds start out of step, so that shares of a half each fall on other loans."""
    if kind not in RunState.plans:
        RunState.plans[kind] = len(RunState.plans) / 2 % 1
    RunState.plans[kind] += share
    if RunState.plans[kind] >= 1:
        RunState.plans[kind] -= 1
        return True
    return False


def write_record(entry: dict) -> None:
    if RunState.record:
        RunState.record.write(json.dumps(entry) + "\n")
        RunState.record.flush()


def body(response) -> dict:
    try:
        parsed = json.loads(response.text or "", parse_float=Decimal)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def unexpected(response, what: str = "") -> None:
    """Mark a response a failure; 5xx and no-answer are told apart in the message (the
    summary counts the 5xx)."""
    code = body(response).get("error", "")
    if response.status_code >= 500:
        response.failure(f"5xx: HTTP {response.status_code} {code}")
    elif response.status_code == 0:
        response.failure(f"no response: {response.error!r}"[:200])
    else:
        response.failure(f"unexpected HTTP {response.status_code} {code} {what}".strip())


def outcome(response, operation: str, ok_status: int, done: str) -> str:
    """What the answer to a lifecycle request says: `done` (it happened), an expected 409
    code (a success), or "HTTP n" (a failure, marked). Counted in the run's outcomes."""
    code = body(response).get("error")
    if response.status_code == ok_status:
        result = done
    elif response.status_code == 409 and code in EXPECTED_CONFLICTS[operation]:
        result = code
        response.success()
    else:
        result = f"HTTP {response.status_code}"
        unexpected(response)
    RunState.outcomes[f"{operation} {result}"] += 1
    return result
