"""What the load scenario's users share: the Locust process's run state, reading answers, the
expected outcomes of races, and verified accounts. The users are in `borrower.py` and
`lender.py`; `locustfile.py` puts them together."""

from __future__ import annotations

import itertools
import json
import logging
import urllib.request
from collections import Counter
from decimal import Decimal
from urllib.parse import quote

from locust import FastHttpUser

from devstack.mailbox import PATH as MAILBOX_PATH
from devstack.mailbox import token_in
from loadtests.scenario import PASSWORD

log = logging.getLogger("loadtests")

# 409 codes that are the expected outcome of a race (with other lenders, the borrower, the
# deadline), per operation: they count as successes. Any other answer is a failure.
EXPECTED_CONFLICTS = {
    "accept": {"LOAN_FULLY_FUNDED", "ALREADY_ACCEPTED", "INVITATION_DECLINED", "LOAN_EXPIRED", "INVALID_STATE"},
    "decline": {"ALREADY_ACCEPTED", "INVITATION_DECLINED", "LOAN_EXPIRED", "INVALID_STATE"},
    "cancel": {"INVALID_STATE", "LOAN_EXPIRED"},
    "invite": {"INVALID_STATE", "LOAN_EXPIRED"},
}
CLOSED_LOAN = {"CANCELLED", "EXPIRED"}


class RunState:
    """What this Locust process shares between its users."""

    run_id = ""
    pool: list[str] = []  # every lender account the run registered; loans invite from all of them
    active: list[str] = []  # the ones LenderUsers log in to (the rest never answer)
    next_lender = itertools.count()
    next_borrower = itertools.count()
    record = None
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


def _emailed_token(mailbox: str, email: str) -> str | None:
    """The newest verification token sent to `email`, from the local stack's outbox."""
    with urllib.request.urlopen(f"{mailbox}{MAILBOX_PATH}?to={quote(email)}", timeout=30) as answer:
        return token_in(json.load(answer)["emails"])


def verified_token(client, options, email: str, registered: dict) -> str | None:
    """The account's token once its email is verified (None, and a failure, otherwise)."""
    if registered.get("user", {}).get("email_verified"):
        return registered["token"]  # the stage verifies this domain on registration
    token = _emailed_token(options.mailbox, email) if options.mailbox else None
    if token is None:
        log.error(
            "%s is not verified: run against the local stack (--mailbox) or a stage deployed "
            "with AutoVerifyEmailDomain=loadtest.example.com",
            email,
        )
        return None
    with client.post("/auth/verify-email", json={"token": token}, catch_response=True) as response:
        if response.status_code == 200:
            return body(response)["token"]
        unexpected(response)
        return None


class ApiUser(FastHttpUser):
    abstract = True
    network_timeout = 30.0
    connection_timeout = 10.0
    token = ""

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def options(self):
        return self.environment.parsed_options

    def login(self, email: str) -> bool:
        with self.client.post(
            "/auth/login", json={"email": email, "password": PASSWORD}, catch_response=True
        ) as response:
            if response.status_code == 200:
                self.token = body(response)["token"]
                return True
            unexpected(response)
            return False

    def get_json(self, path: str, name: str) -> dict | None:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as response:
            if response.status_code == 200:
                return body(response)
            unexpected(response)
            return None
