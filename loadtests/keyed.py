"""Every changing request of the load run carries a fresh Idempotency-Key; `--retry-share` of
them are sent twice with it, as by a client that lost the answer (`replays.py` says what
must hold): "lost", the second attempt once the first's answer came back and was dropped, or,
for `--concurrent-share` of the retries, "concurrent", both at once.

An attempt answered IDEMPOTENCY_KEY_IN_USE waits for the other attempt to end and asks again:
the end of its own earlier request is what a client can wait for, where Retry-After (up to a
minute: the key's lock) is a guess. The scenario goes on with the second attempt's answer;
both are recorded (`--retry-file`) and compared here too, so a broken replay fails the run
at once.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gevent
import gevent.event

from loadtests.replays import IN_USE, answer, check_retry
from loadtests.users import RunState, body, unexpected

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_IN_USE = 3  # one is the race; more means a key that stays taken
WAIT = 60.0  # seconds, at most, for the other attempt to end (it times out after 30)


def _in_use(response) -> bool:
    """An IDEMPOTENCY_KEY_IN_USE answer, which is the race's and a success if it says when to
    come back."""
    if response.status_code != 409 or body(response).get("error") != IN_USE:
        return False
    if (response.headers or {}).get("Retry-After"):
        response.success()
    else:
        response.failure("IDEMPOTENCY_KEY_IN_USE without Retry-After")
    return True


def _answer(response, in_use: int) -> dict:
    replayed = (response.headers or {}).get(REPLAYED) == "true"
    return answer(response.status_code, response.content, body(response).get("error"), replayed, in_use)


def _send(client, method: str, path: str, name: str, kwargs: dict):
    # A copy per attempt: the two may be in flight at once, and a client may add headers.
    return client.request(method, path, name=name, catch_response=True, **{**kwargs, "headers": {**kwargs["headers"]}})


def _attempt(client, method: str, path: str, name: str, kwargs: dict, mine, other) -> dict:
    """An attempt whose answer the scenario never sees: it counts as a failure only for a 5xx
    or no answer; what it said is judged against the other attempt's."""
    in_use = 0
    try:
        while True:
            with _send(client, method, path, name, kwargs) as response:
                if not _in_use(response):
                    if response.status_code >= 500 or response.status_code == 0:
                        unexpected(response)
                    else:
                        response.success()
                    return _answer(response, in_use)
                if in_use == MAX_IN_USE:
                    return _answer(response, in_use)
                in_use += 1
            other.wait(WAIT)
    finally:
        mine.set()


@contextmanager
def changing(
    client,
    options,
    method: str,
    path: str,
    *,
    name: str | None = None,
    loan_id: str | None = None,
    key: str | None = None,
    **kwargs: Any,
) -> Iterator[Any]:
    """`client.request(method, path, catch_response=True, ...)` under `key` (a new one by
    default), sometimes sent twice: yields the (last) response, for the caller to judge as if
    it were the only one."""
    name = name or path
    kwargs["headers"] = {**kwargs.get("headers", {}), HEADER: key or str(uuid.uuid4())}
    if options is None or random.random() >= options.retry_share:
        with _send(client, method, path, name, kwargs) as response:
            yield response
        return
    mode = "concurrent" if random.random() < options.concurrent_share else "lost"
    first_done, second_done = gevent.event.Event(), gevent.event.Event()
    first = gevent.spawn(_attempt, client, method, path, name, kwargs, first_done, second_done)
    if mode == "lost":
        first.join()
    in_use = 0
    while True:
        with _send(client, method, path, f"{name} (retry)", kwargs) as response:
            if not _in_use(response) or in_use == MAX_IN_USE:
                second_done.set()
                attempts = [first.get(timeout=WAIT), _answer(response, in_use)]
                if loan_id is None and response.status_code == 201:
                    loan_id = body(response).get("loan_id")  # a create's
                entry = {"operation": name, "key": kwargs["headers"][HEADER], "mode": mode, "loan_id": loan_id}
                _record({**entry, "attempts": attempts}, response)
                yield response
                return
            in_use += 1
        first_done.wait(WAIT)


def _record(entry: dict, response) -> None:
    """Count the retry, judge it, and write it down for the checker."""
    attempts = entry["attempts"]
    RunState.outcomes[f"retried {entry['mode']}"] += 1
    RunState.outcomes["replays"] += sum(a["replayed"] for a in attempts)
    RunState.outcomes["IN_USE answers"] += sum(a["in_use"] + (a["code"] == IN_USE) for a in attempts)
    violations = check_retry(entry)
    if violations:
        RunState.outcomes["replay violations in flight"] += len(violations)
        response.failure(f"retry broken: {violations[0]}"[:300])
    if RunState.retries:
        RunState.retries.write(json.dumps(entry) + "\n")
        RunState.retries.flush()
