"""Check the invariants of every loan a load run created, and of its history, through the API
(so it works against a deployed stack too): log in as each borrower, read each loan with
`GET /loans/{loan_id}` (the borrower sees every participant) and every page of
`GET /loans/{loan_id}/events`, and check them.

    python -m loadtests.check --host http://127.0.0.1:8000 --records results/load-…/loans.jsonl

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
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx

from loadtests.invariants import Report, check_loans, moment

EVENTS_PAGE = 100
MAX_EVENT_PAGES = 20  # a loan has at most a few hundred events (40 lenders, each answers once)


def read_records(path: Path) -> list[dict]:
    """The run's loans, from its JSON lines: one line per loan created, then one per later
    invitation (`{"loan_id", "invited": [emails]}`), whose lenders join the loan's. A torn
    last line (a killed writer) is skipped."""
    loans: dict[str, dict] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "invited" in record:
            if record["loan_id"] in loans:
                loans[record["loan_id"]]["lenders"] += record["invited"]
        else:
            loans[record["loan_id"]] = {**record, "lenders": list(record["lenders"])}
    return list(loans.values())


def _history(client: httpx.Client, loan_id: str, headers: dict) -> list[dict] | str:
    """Every event of the loan, oldest first, or why not."""
    events: list[dict] = []
    cursor = None
    for _ in range(MAX_EVENT_PAGES):
        params: dict[str, str | int] = {"limit": EVENTS_PAGE, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"/loans/{loan_id}/events", params=params, headers=headers)
        if response.status_code != 200:
            return f"GET events answered {response.status_code} {response.text[:200]}"
        page = json.loads(response.text, parse_float=Decimal)
        events += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return events
    return f"the history has more than {MAX_EVENT_PAGES} pages"


def fetch_loans(
    host: str, records: Iterable[dict], concurrency: int = 8, timeout: float = 30
) -> tuple[list[dict], dict[str, list[dict]], list[str]]:
    """(loan documents as their borrowers see them, each loan's history read after it,
    "loan_id: why" for each loan or history that could not be read)."""
    records = list(records)
    by_borrower: dict[tuple[str, str], list[str]] = {}
    for record in records:
        by_borrower.setdefault((record["borrower_email"], record["borrower_password"]), []).append(record["loan_id"])
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=host, timeout=timeout, limits=limits) as client:

        def borrower_loans(item: tuple[tuple[str, str], list[str]]) -> list[tuple[str, dict | str, list[dict] | str]]:
            (email, password), loan_ids = item
            login = client.post("/auth/login", json={"email": email, "password": password})
            if login.status_code != 200:
                return [(loan_id, f"borrower login answered {login.status_code}", []) for loan_id in loan_ids]
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            found: list[tuple[str, dict | str, list[dict] | str]] = []
            for loan_id in loan_ids:
                response = client.get(f"/loans/{loan_id}", headers=headers)
                if response.status_code != 200:
                    found.append((loan_id, f"GET answered {response.status_code} {response.text[:200]}", []))
                    continue
                loan = json.loads(response.text, parse_float=Decimal)
                found.append((loan_id, loan, _history(client, loan_id, headers)))
            return found

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = [entry for chunk in pool.map(borrower_loans, by_borrower.items()) for entry in chunk]
    loans = [doc for _, doc, _ in results if isinstance(doc, dict)]
    histories = {loan_id: events for loan_id, _, events in results if isinstance(events, list)}
    unreadable = [f"{loan_id}: {why}" for loan_id, *reads in results for why in reads if isinstance(why, str)]
    return loans, histories, unreadable


def check_run(
    host: str, records: list[dict], rereads: int = 2, pause: float = 2.0, expiry_ran_at: datetime | None = None
) -> Report:
    """Check every recorded loan and its history. A borrower's view is two reads (the loan,
    then its participants), and its history a third, so a request still running on the
    server when the run stopped can land between them; loans that break a rule are read
    again after `pause` seconds, and only what still breaks it counts (it is what is stored).
    `expiry_ran_at`: when the expiry job last ran, if known (see `check_history`)."""
    loans, histories, unreadable = fetch_loans(host, records)
    expected = {r["loan_id"]: {"amount": r["amount"], "lenders": r["lenders"]} for r in records}
    docs = {str(loan.get("loan_id")): loan for loan in loans}
    report = check_loans(docs.values(), expected, histories, expiry_ran_at)
    first = {v.loan_id for v in report.violations}
    for _ in range(rereads):
        suspects = {v.loan_id for v in report.violations}
        if not suspects:
            break
        time.sleep(pause)
        again, again_histories, _ = fetch_loans(host, [r for r in records if r["loan_id"] in suspects])
        docs.update({str(loan.get("loan_id")): loan for loan in again})
        histories.update(again_histories)
        report = check_loans(docs.values(), expected, histories, expiry_ran_at)
    report.unreadable = unreadable
    report.settled_on_reread = sorted(first - {v.loan_id for v in report.violations})
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
    ]
    if report.expiry_ran_at:
        lines.append(f"  the expiry job last ran at {report.expiry_ran_at}")
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
    args = parser.parse_args(argv)
    report = check_run(args.host, read_records(args.records), args.rereads, args.reread_pause, args.expiry_ran_at)
    print(describe(report), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    if report.loans_checked < args.min_loans:
        print(f"Only {report.loans_checked} loans checked (at least {args.min_loans} expected).", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
