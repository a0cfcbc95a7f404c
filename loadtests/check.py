"""Check the invariants of every loan a load run created, and of its history, through the API
(so it works against a deployed stack too): log in as each borrower, read each loan with
`GET /loans/{loan_id}` (the borrower sees every participant), every page of
`GET /loans/{loan_id}/events` and of `GET /loans/my-loans`, and check them; and check the
requests the run sent twice with one Idempotency-Key (`replays.py`).

    python -m loadtests.check --host http://127.0.0.1:8000 --records results/load-…/loans.jsonl \
        [--retries results/load-…/retries.jsonl]

Exits 1 when an invariant is broken, a loan or its history cannot be read, or fewer than
`--min-loans` loans were checked.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx

from loadtests.invariants import Report, check_loans, moment
from loadtests.ledger import REPAYING
from loadtests.replays import check_owned, check_repaid_once, check_retries

PAGE = 100
MAX_PAGES = 20  # a loan has at most a few hundred events (40 lenders, each answers once)


def json_lines(path: Path) -> list[dict]:
    """A file of JSON lines the run wrote; a torn line (a killed writer) is skipped."""
    found = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def read_records(path: Path) -> list[dict]:
    """The run's loans, from its JSON lines: one line per loan created, then one per later
    invitation (`{"loan_id", "invited": [emails]}`), whose lenders join the loan's. The lines
    of the creates and repayments sent (`{"borrower_email", "create_key"}`, `{"loan_id",
    "repay_key"}`, see `read_keys`) are no loans."""
    loans: dict[str, dict] = {}
    for record in json_lines(path):
        if "create_key" in record or "repay_key" in record:
            continue
        if "invited" in record:
            if record["loan_id"] in loans:
                loans[record["loan_id"]]["lenders"] += record["invited"]
        else:
            loans[record["loan_id"]] = {**record, "lenders": list(record["lenders"])}
    return list(loans.values())


def read_keys(path: Path, key: str = "create_key", owner: str = "borrower_email") -> dict[str, set[str]]:
    """The Idempotency-Keys of every request of a kind sent, answered or not, by whose they
    are: borrower email -> their creates' (the default), or loan id -> its repayments'
    (`"repay_key", "loan_id"`)."""
    keys: dict[str, set[str]] = {}
    for record in json_lines(path):
        if key in record:
            keys.setdefault(record[owner], set()).add(record[key])
    return keys


def _pages(client: httpx.Client, path: str, headers: dict) -> list[dict] | str:
    """Every item of a paged list, in order, or why not."""
    items: list[dict] = []
    cursor = None
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=params, headers=headers)
        if response.status_code != 200:
            return f"GET {path} answered {response.status_code} {response.text[:200]}"
        page = json.loads(response.text, parse_float=Decimal)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items
    return f"{path} has more than {MAX_PAGES} pages"


def _read_ledger(client: httpx.Client, loan_id: str, headers: dict, fetched: Fetched) -> None:
    """A repaying loan's schedule and every repayment (the borrower sees every share)."""
    schedule = client.get(f"/loans/{loan_id}/schedule", headers=headers)
    repayments = _pages(client, f"/loans/{loan_id}/repayments", headers)
    if schedule.status_code != 200:
        fetched.unreadable.append(f"{loan_id}: GET schedule answered {schedule.status_code} {schedule.text[:200]}")
    elif isinstance(repayments, str):
        fetched.unreadable.append(f"{loan_id}: {repayments}")
    else:
        parsed = json.loads(schedule.text, parse_float=Decimal)
        fetched.ledgers[loan_id] = {"schedule": parsed, "repayments": repayments}


@dataclass
class Fetched:
    loans: list[dict]  # as their borrowers see them
    histories: dict[str, list[dict]]  # each loan's, read after it
    unreadable: list[str]  # "loan_id: why", for each loan, history or borrower's list not read
    owned: dict[str, list[str]]  # borrower email -> the ids of every loan the API lists as theirs
    # ACTIVE or COMPLETED loan id -> its `schedule` and its `repayments` (every page's items)
    ledgers: dict[str, dict] = field(default_factory=dict)


def fetch_loans(host: str, records: Iterable[dict], concurrency: int = 8, timeout: float = 30) -> Fetched:
    records = list(records)
    by_borrower: dict[tuple[str, str], list[str]] = {}
    for record in records:
        by_borrower.setdefault((record["borrower_email"], record["borrower_password"]), []).append(record["loan_id"])
    fetched = Fetched([], {}, [], {})
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=host, timeout=timeout, limits=limits) as client:

        def borrower_loans(item: tuple[tuple[str, str], list[str]]) -> None:
            (email, password), loan_ids = item
            login = client.post("/auth/login", json={"email": email, "password": password})
            if login.status_code != 200:
                fetched.unreadable += [
                    f"{loan_id}: borrower login answered {login.status_code}" for loan_id in loan_ids
                ]
                return
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            for loan_id in loan_ids:
                response = client.get(f"/loans/{loan_id}", headers=headers)
                if response.status_code != 200:
                    fetched.unreadable.append(f"{loan_id}: GET answered {response.status_code} {response.text[:200]}")
                    continue
                loan = json.loads(response.text, parse_float=Decimal)
                fetched.loans.append(loan)
                events = _pages(client, f"/loans/{loan_id}/events", headers)
                if isinstance(events, str):
                    fetched.unreadable.append(f"{loan_id}: {events}")
                else:
                    fetched.histories[loan_id] = events
                if loan.get("status") in REPAYING:
                    _read_ledger(client, loan_id, headers, fetched)
            listed = _pages(client, "/loans/my-loans", headers)
            if isinstance(listed, str):
                fetched.unreadable.append(f"{email}'s loans: {listed}")
            else:
                fetched.owned[email] = [str(loan["loan_id"]) for loan in listed]

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(borrower_loans, by_borrower.items()))  # list.append and += are atomic
    return fetched


def check_run(
    host: str,
    records: list[dict],
    rereads: int = 2,
    pause: float = 2.0,
    expiry_ran_at: datetime | None = None,
    retried: list[dict] | None = None,
    creates: dict[str, set[str]] | None = None,
    repay_keys: dict[str, set[str]] | None = None,
) -> Report:
    """Check every recorded loan and its history, each borrower's loans against the creates
    they sent (`creates`: their keys), each loan's repayments against those sent (`repay_keys`),
    and the `retried` requests (`replays.py`). A borrower's
    view is two reads (the loan, then its participants), and its history a third, so a request
    still running on the server when the run stopped can land between them; loans that break a rule are read
    again after `pause` seconds, and only what still breaks it counts (it is what is stored).
    `expiry_ran_at`: when the expiry job last ran, if known (see `check_history`)."""
    fetched = fetch_loans(host, records)
    expected = {r["loan_id"]: {"amount": r["amount"], "lenders": r["lenders"]} for r in records}
    docs = {str(loan.get("loan_id")): loan for loan in fetched.loans}
    histories, ledgers = fetched.histories, fetched.ledgers
    report = check_loans(docs.values(), expected, histories, expiry_ran_at, ledgers)
    first = {v.loan_id for v in report.violations}
    for _ in range(rereads):
        suspects = {v.loan_id for v in report.violations}
        if not suspects:
            break
        time.sleep(pause)
        again = fetch_loans(host, [r for r in records if r["loan_id"] in suspects])
        docs.update({str(loan.get("loan_id")): loan for loan in again.loans})
        histories.update(again.histories)
        ledgers.update(again.ledgers)
        report = check_loans(docs.values(), expected, histories, expiry_ran_at, ledgers)
    report.unreadable = fetched.unreadable
    report.settled_on_reread = sorted(first - {v.loan_id for v in report.violations})
    # What a retry could have done twice: nothing here changes after the run, so no re-read.
    report.borrowers_checked = len(fetched.owned)
    twice, report.loans_unanswered = check_owned(records, fetched.owned, creates)
    report.violations += twice
    if repay_keys is not None:
        report.violations += check_repaid_once(ledgers, repay_keys)
    retry_violations, report.retries = check_retries(retried or [])
    report.violations += retry_violations
    return report


def describe(report: Report) -> str:
    def counts(counter) -> str:
        return ", ".join(f"{count} {name}" for name, count in sorted(counter.items())) or "none"

    lines = [
        f"Invariants: {report.loans_checked} loans checked ({report.histories_checked} histories), "
        f"{report.accepted_participants} acceptances standing, total funded {report.total_funded}: "
        + ("all hold." if report.ok else "BROKEN."),
        f"  loans: {counts(report.loans_by_status)}",
        f"  participants: {counts(report.participants_by_status)}",
        f"  events: {counts(report.events_by_type)}",
        f"  repayments: {report.repayments_checked} checked, total repaid {report.total_repaid}",
    ]
    if report.expiry_ran_at:
        lines.append(f"  the expiry job last ran at {report.expiry_ran_at}")
    lines.append(
        f"  retries: {counts(report.retries)}; loans counted for {report.borrowers_checked} borrowers, "
        f"{len(report.loans_unanswered)} created as the run stopped, their answer unread"
    )
    for rule, count in sorted(report.by_rule().items()):
        lines.append(f"  {rule}: {count}")
    if report.settled_on_reread:
        lines.append(f"  {len(report.settled_on_reread)} loans read mid-request at first, sound on a re-read")
    lines += [f"  {violation}" for violation in report.violations[:50]]
    lines += [f"  unreadable {entry}" for entry in report.unreadable[:50]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.check", description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True, help="the API base URL")
    parser.add_argument("--records", required=True, type=Path, help="the run's loans.jsonl")
    parser.add_argument("--out", type=Path, help="write the report here as JSON")
    parser.add_argument("--min-loans", type=int, default=1, help="fail if fewer loans were checked")
    parser.add_argument("--rereads", type=int, default=2, help="re-reads of a loan that breaks a rule")
    parser.add_argument("--reread-pause", type=float, default=2.0, help="seconds before each re-read")
    parser.add_argument("--expiry-ran-at", type=moment, help="when the expiry job last ran (a timestamp with offset)")
    parser.add_argument("--retries", type=Path, help="the run's retries.jsonl: requests sent twice with one key")
    args = parser.parse_args(argv)
    retried = json_lines(args.retries) if args.retries else []
    records = read_records(args.records)
    creates, repaid = read_keys(args.records), read_keys(args.records, "repay_key", "loan_id")
    report = check_run(
        args.host, records, args.rereads, args.reread_pause, args.expiry_ran_at, retried, creates, repaid
    )
    print(describe(report), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    if report.loans_checked < args.min_loans:
        print(f"Only {report.loans_checked} loans checked (at least {args.min_loans} expected).", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
