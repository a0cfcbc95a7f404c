"""The retries of a load run's changing requests, checked: a request sent twice with one
Idempotency-Key takes effect once, and the attempt that did not run it gets the first answer
again (same status, same body), marked `Idempotent-Replayed: true`. No borrower has a loan the
run did not send a create for (a retried create that ran twice), and no lender's acceptance is in a
history twice (`invariants.check_history`). Pure functions over the run's records.

A retried request is two attempts with one key (`keyed.py` sends them): "lost", the second
sent once the first's answer came back and was dropped, as by a client whose connection broke;
or "concurrent", both at once, so one of them is answered IDEMPOTENCY_KEY_IN_USE, waits for
the other to end and asks again. A loan has no more repayments than the run sent on it
(`check_repaid_once`, on the keys written down before each was sent).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping

from loadtests.invariants import Violation

IN_USE = "IDEMPOTENCY_KEY_IN_USE"


def answer(status: int, content: bytes | None, code: str | None, replayed: bool, in_use: int) -> dict:
    """One attempt's last answer as recorded: its status and a digest of its body (bodies hold
    tokens and can be long), its error code, whether it said it was replayed, and how many
    IN_USE answers it got before."""
    digest = hashlib.sha256(content or b"").hexdigest()[:32]
    return {"status": status, "digest": digest, "code": code, "replayed": replayed, "in_use": in_use}


def _decided(attempt: Mapping) -> bool:
    """Whether the answer is the use case's, which the key keeps: a success or a conflict it
    decided. Validation and authentication refusals come before the key and are decided again."""
    return 200 <= attempt["status"] < 300 or (attempt["status"] == 409 and attempt["code"] != IN_USE)


def check_retry(entry: Mapping) -> list[Violation]:
    """The broken rules of one retried request (`{"operation", "key", "mode", "attempts": [a, b]}`,
    with `loan_id` when it is about a loan)."""
    where = str(entry.get("loan_id") or f"{entry['operation']} {str(entry['key'])[:8]}")
    first, second = entry["attempts"]
    what = f"{entry['operation']} ({entry['mode']})"
    found = []
    stuck = [a for a in (first, second) if a["code"] == IN_USE]
    replayed = [a for a in (first, second) if a["replayed"]]
    if stuck:
        found.append(Violation(where, "REPLAY_MISSING", f"{what}: still IN_USE after the other attempt had ended"))
    if replayed and (first["status"], first["digest"]) != (second["status"], second["digest"]):
        found.append(
            Violation(where, "REPLAY_DIFFERS", f"{what}: answered {first['status']} then {second['status']}, replayed")
        )
    original = next((a for a in (first, second) if not a["replayed"]), first)
    if not stuck and _decided(original) and len(replayed) != 1:
        how = "both say replayed" if replayed else f"neither is a replay ({first['status']}, {second['status']})"
        found.append(Violation(where, "REPLAY_MISSING", f"{what}: {how}"))
    return found


def check_retries(entries: Iterable[Mapping]) -> tuple[list[Violation], Counter]:
    """Every broken rule of the run's retried requests, and what they did: retries by mode,
    replays, IN_USE answers."""
    found: list[Violation] = []
    counts: Counter = Counter()
    for entry in entries:
        try:
            found += check_retry(entry)
            counts[f"retried {entry['mode']}"] += 1
            counts["replays"] += sum(bool(a["replayed"]) for a in entry["attempts"])
            counts["IN_USE answers"] += sum(a["in_use"] + (a["code"] == IN_USE) for a in entry["attempts"])
        except (KeyError, TypeError, ValueError) as exc:
            found.append(Violation(str(entry.get("key", "?")), "MALFORMED", f"retry record: {exc!r}"))
    return found, counts


def check_repaid_once(ledgers: Mapping[str, Mapping], sent: Mapping[str, set[str]]) -> list[Violation]:
    """Each loan's repayments as the API lists them (`ledgers`: loan id -> {"repayments": [...]})
    against the keys of the repayments the run sent on it (`sent`): more repayments than keys is
    a repayment that ran twice for one key."""
    found = []
    for loan_id, ledger in sorted(ledgers.items()):
        listed, keys = len(ledger.get("repayments", [])), len(sent.get(loan_id, ()))
        if listed > keys:
            found.append(Violation(loan_id, "REPAID_TWICE", f"{listed} repayments from {keys} sent"))
    return found


def check_owned(
    records: Iterable[Mapping], owned: Mapping[str, Iterable[str]], creates: Mapping[str, set[str]] | None = None
) -> tuple[list[Violation], list[str]]:
    """Each borrower's loans as the API lists them (`owned`: email -> loan ids) against the
    creates they sent (`creates`: email -> keys; without it, the loans recorded): more loans
    than keys is a create that ran twice. Also returns the loans listed but never recorded
    within that count: creates sent as the run stopped, whose answer nobody read."""
    created: dict[str, set[str]] = {}
    for record in records:
        created.setdefault(str(record.get("borrower_email")), set()).add(str(record.get("loan_id")))
    found, unanswered = [], []
    for email, listed in owned.items():
        listed, seen = set(listed), created.get(email, set())
        sent = len((creates or {}).get(email) or seen)
        unseen = sorted(listed - seen)
        if len(listed) > sent:
            detail = f"{email} has {len(listed)} loans from {sent} creates sent; this one the run never saw created"
            found += [Violation(loan_id, "LOAN_CREATED_TWICE", detail) for loan_id in unseen]
        else:
            unanswered += unseen
    return found, unanswered
