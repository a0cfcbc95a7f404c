"""The load run's invariant checker fails loudly: every kind of broken invariant, fed to it
as a corrupted loan document or history, is reported under its own rule; sound documents of
every status pass. Then the checker end to end through the API: real loans pass, whatever
their status, and an unreadable one fails the run."""

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loadtests import check
from loadtests.invariants import (
    KEY_RULES,
    LEDGER_RULES,
    RULES,
    accepted_sum,
    check_history,
    check_loan,
    check_loans,
    moment,
    replay,
)

MIN_WINDOW = 3600  # the service's default shortest funding window, which the tests' app keeps
DEADLINE = "2030-01-31T12:00:00.000000Z"
BEFORE_DEADLINE = "2030-01-20T08:30:00.000000Z"

# A partially funded loan as its borrower sees it: 400 + 250 of 1000, one lender pending.
SOUND = {
    "loan_id": "loan-1",
    "borrower_id": "b-1",
    "amount": Decimal("1000.00"),
    "status": "PENDING",
    "total_funded": Decimal("650.00"),
    "remaining_amount": Decimal("350.00"),
    "funding_deadline": DEADLINE,
    "closed_at": None,
    "repayment_type": "EQUAL_INSTALMENTS",
    "total_due": None,  # until ACTIVE (test_ledger_checker.py has repaid loans)
    "repaid": Decimal(0),
    "outstanding": Decimal(0),
    "participants": [
        {
            "lender_id": "l-1",
            "email": "one@example.com",
            "contribution_amount": Decimal("400.00"),
            "funded_amount": Decimal("400.00"),
            "status": "ACCEPTED",
        },
        {
            "lender_id": "l-2",
            "email": "two@example.com",
            "contribution_amount": Decimal("250.00"),
            "funded_amount": Decimal("250.00"),
            "status": "ACCEPTED",
        },
        {
            "lender_id": "l-3",
            "email": "three@example.com",
            "contribution_amount": Decimal("900.00"),
            "funded_amount": Decimal("0"),
            "status": "PENDING",
        },
        {
            "lender_id": None,
            "email": "nobody-yet@example.com",
            "contribution_amount": Decimal("100.00"),
            "funded_amount": Decimal("0"),
            "status": "PENDING",
        },
    ],
}
CREATED = {"amount": "1000.00", "lenders": [p["email"] for p in SOUND["participants"]]}


def _funded_in_full() -> dict:
    """l-3 accepts and is filled for the 350 that remained: the loan turns ACTIVE."""
    loan = copy.deepcopy(SOUND)
    loan.update(status="ACTIVE", total_funded=Decimal("1000.00"), remaining_amount=Decimal("0.00"))
    loan["participants"][2].update(status="ACCEPTED", funded_amount=Decimal("350.00"))
    return loan


def _with_a_decline() -> dict:
    loan = copy.deepcopy(SOUND)
    loan["participants"][2]["status"] = "DECLINED"
    return loan


def _closed(status: str, closed_at: str) -> dict:
    """SOUND cancelled or expired: the acceptances RELEASED (their funded_amount kept as
    history), the pending lenders CLOSED, nothing counted."""
    loan = copy.deepcopy(SOUND)
    loan.update(status=status, total_funded=Decimal(0), remaining_amount=Decimal("1000.00"), closed_at=closed_at)
    for p in loan["participants"]:
        p["status"] = {"ACCEPTED": "RELEASED", "PENDING": "CLOSED"}[p["status"]]
    return loan


def _cancelled() -> dict:
    return _closed("CANCELLED", BEFORE_DEADLINE)


def _expired() -> dict:
    return _closed("EXPIRED", DEADLINE)


def corrupt(change, base=None) -> dict:
    loan = copy.deepcopy(base or SOUND)
    change(loan)
    return loan


def _set(path: str, value):
    def change(loan: dict) -> None:
        target = loan
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


def _both(*changes):
    def change(loan: dict) -> None:
        for c in changes:
            c(loan)

    return change


def _drop_participant(index: int):
    return lambda loan: loan["participants"].pop(index)


def _duplicate_participant(index: int):
    return lambda loan: loan["participants"].append(copy.deepcopy(loan["participants"][index]))


def _over_funded(loan: dict) -> None:
    loan.update(_funded_in_full())
    loan["participants"][3].update(status="ACCEPTED", funded_amount=Decimal("100.00"))
    loan.update(total_funded=Decimal("1100.00"), remaining_amount=Decimal("-100.00"))


def _on(base, change):
    """A corruption of another sound document than SOUND."""
    return lambda loan: (loan.clear(), loan.update(corrupt(change, base())))


# rule -> a corruption of a sound document that breaks it.
CORRUPTIONS = {
    "NEGATIVE_TOTAL": _both(_set("total_funded", Decimal("-5")), _set("remaining_amount", Decimal("1005"))),
    "OVER_FUNDED": _over_funded,
    "TOTAL_NOT_SUM": _both(_set("total_funded", Decimal("600.00")), _set("remaining_amount", Decimal("400.00"))),
    "ACTIVE_NOT_FULL": _set("status", "ACTIVE"),
    "FULL_NOT_ACTIVE": lambda loan: loan.update({**_funded_in_full(), "status": "PENDING"}),
    "REMAINING_WRONG": _set("remaining_amount", Decimal("300.00")),
    "DUPLICATE_LENDER": _duplicate_participant(2),
    "UNACCEPTED_FUNDED": _set("participants.2.funded_amount", Decimal("0.01")),
    "ACCEPTED_AMOUNT": _both(
        _set("participants.1.funded_amount", Decimal("260.00")),
        _set("total_funded", Decimal("660.00")),
        _set("remaining_amount", Decimal("340.00")),
    ),
    "UNKNOWN_STATUS": _set("participants.2.status", "MAYBE"),
    "MALFORMED": _set("total_funded", "lots"),
    "AMOUNT_CHANGED": _both(_set("amount", Decimal("1100.00")), _set("remaining_amount", Decimal("450.00"))),
    "PARTICIPANTS_CHANGED": _drop_participant(3),
    # A cancel that forgot to reset the total.
    "CLOSED_LOAN_FUNDED": _on(_cancelled, _both(_set("total_funded", Decimal("650")), _set("remaining_amount", 350))),
    # An expiry that left one invitation open.
    "CLOSED_LOAN_OPEN_PARTICIPANT": _on(_expired, _set("participants.3.status", "PENDING")),
    # A participation closed while its loan is still raising funds.
    "CLOSED_PARTICIPANT_OPEN_LOAN": _set("participants.2.status", "CLOSED"),
    # An expiry written before the deadline.
    "CLOSED_AT_WRONG": _on(_expired, _set("closed_at", BEFORE_DEADLINE)),
}
# Rules no document can break alone, and what breaks with them: a negative total is not what
# accepted lenders funded; an over-funded loan's total is not its amount, yet it is ACTIVE; a
# closed loan has no ACCEPTED participant, so its leftover total is not their sum.
ALSO_BROKEN = {
    "NEGATIVE_TOTAL": {"TOTAL_NOT_SUM"},
    "OVER_FUNDED": {"ACTIVE_NOT_FULL"},
    "CLOSED_LOAN_FUNDED": {"TOTAL_NOT_SUM"},
}


def test_sound_loans_of_every_status_pass():
    fresh = {**copy.deepcopy(SOUND), "total_funded": 0, "remaining_amount": 1000}
    for p in fresh["participants"]:
        p.update(status="PENDING", funded_amount=0)
    for loan in (fresh, SOUND, _with_a_decline(), _funded_in_full(), _cancelled(), _expired()):
        assert check_loan(loan, CREATED) == [], loan["status"]
        assert check_loan(loan, CREATED, settled=False) == [], loan["status"]
    declined_then_cancelled = _cancelled()
    declined_then_cancelled["participants"][2]["status"] = "DECLINED"
    assert check_loan(declined_then_cancelled, CREATED) == []


def test_every_rule_has_a_corruption():
    # The retries' rules are about requests and borrowers: test_replay_checker.py has theirs;
    # the repayments' are test_ledger_checker.py's.
    assert set(CORRUPTIONS) | set(HISTORY_CORRUPTIONS) == set(RULES) - KEY_RULES - LEDGER_RULES


@pytest.mark.parametrize("rule", sorted(CORRUPTIONS))
def test_each_kind_of_violation_is_reported(rule):
    violations = check_loan(corrupt(CORRUPTIONS[rule]), CREATED)
    assert {v.rule for v in violations} == {rule} | ALSO_BROKEN.get(rule, set()), violations
    assert all(v.loan_id == "loan-1" for v in violations)
    # The message says which rule and what was seen.
    assert any(rule in str(v) and RULES[rule] in str(v) for v in violations)


@pytest.mark.parametrize(
    "loan",
    [
        corrupt(_set("closed_at", DEADLINE)),  # PENDING, yet closed
        corrupt(_set("closed_at", "2030-02-01T00:00:00.000000Z"), _expired()),  # expired after its deadline
        corrupt(_set("closed_at", DEADLINE), _cancelled()),  # cancelled once the deadline had passed
        corrupt(_set("closed_at", None), _cancelled()),
    ],
    ids=["pending", "expired-late", "cancelled-at-deadline", "cancelled-never"],
)
def test_closed_at_is_checked_for_every_status(loan):
    assert {v.rule for v in check_loan(loan, CREATED)} == {"CLOSED_AT_WRONG"}


def test_a_lender_accepting_twice_is_a_duplicate_and_a_wrong_sum():
    """The failure a broken acceptance would really produce: the same lender's participation
    twice, both ACCEPTED, and a total that only counts one of them."""
    loan = corrupt(_duplicate_participant(0))
    rules = {v.rule for v in check_loan(loan)}
    assert {"DUPLICATE_LENDER", "TOTAL_NOT_SUM"} <= rules


def test_money_is_compared_exactly_whatever_the_json_number_type():
    as_floats = json.loads(json.dumps(SOUND, default=float))  # 650.0, 400.0, …
    assert check_loan(as_floats, CREATED) == []
    cents = corrupt(_both(_set("total_funded", Decimal("650.01")), _set("remaining_amount", Decimal("349.99"))))
    assert {v.rule for v in check_loan(cents)} == {"TOTAL_NOT_SUM"}


def test_reads_taken_during_the_race_allow_newer_participants_but_never_older():
    newer = corrupt(
        _both(_set("participants.2.status", "ACCEPTED"), _set("participants.2.funded_amount", Decimal("350")))
    )
    assert accepted_sum(newer) > newer["total_funded"]
    assert check_loan(newer, settled=False) == []
    assert {v.rule for v in check_loan(newer)} == {"TOTAL_NOT_SUM"}
    older = corrupt(CORRUPTIONS["TOTAL_NOT_SUM"])
    older["total_funded"], older["remaining_amount"] = Decimal("700.00"), Decimal("300.00")
    assert {v.rule for v in check_loan(older, settled=False)} == {"TOTAL_NOT_SUM"}


def test_reads_taken_during_the_run_allow_participants_closed_by_a_cancel_that_landed_in_between():
    """An unfunded loan read PENDING, then its participants read after a cancel: the cancel
    wrote both at once, so the participants are newer. Settled, that is a broken loan."""
    unfunded = {**copy.deepcopy(SOUND), "total_funded": 0, "remaining_amount": 1000}
    for p in unfunded["participants"]:
        p.update(status="CLOSED", funded_amount=0)
    assert check_loan(unfunded, CREATED, settled=False) == []
    assert {v.rule for v in check_loan(unfunded, CREATED)} == {"CLOSED_PARTICIPANT_OPEN_LOAN"}
    # Never older: a cancelled loan whose participants are still open.
    stale = corrupt(_set("participants.2.status", "PENDING"), _cancelled())
    assert {v.rule for v in check_loan(stale, CREATED, settled=False)} == {"CLOSED_LOAN_OPEN_PARTICIPANT"}


# -- histories -----------------------------------------------------------------------------


def _event(kind: str, before: str | None, after: str, **data) -> dict:
    return {"event_id": f"e-{kind}", "type": kind, "at": "2030-01-02T00:00:00Z", "actor_id": "b-1",
            "from_status": before, "to_status": after, "data": data}  # fmt: skip


def _numbered(*events: dict) -> list[dict]:
    return [{**event, "sequence": n} for n, event in enumerate(events, 1)]


CREATED_EVENT = _event("LOAN_CREATED", None, "PENDING", amount=Decimal(1000), lenders=[])
ACCEPTS = [
    _event("INVITATION_ACCEPTED", "PENDING", "PENDING", lender_id="l-1", funded_amount=Decimal("400.00")),
    _event("INVITATION_ACCEPTED", "PENDING", "PENDING", lender_id="l-2", funded_amount=Decimal("250.00")),
]
DECLINE = _event("INVITATION_DECLINED", "PENDING", "PENDING", reason=None)
# Each sound document of every status, and the history that led to it.
HISTORIES = {
    "pending": (SOUND, _numbered(CREATED_EVENT, *ACCEPTS)),
    "declined": (_with_a_decline(), _numbered(CREATED_EVENT, ACCEPTS[0], DECLINE, ACCEPTS[1])),
    "active": (
        _funded_in_full(),
        _numbered(
            CREATED_EVENT,
            _event("LENDERS_INVITED", "PENDING", "PENDING", lenders=[]),
            *ACCEPTS,
            _event("INVITATION_ACCEPTED", "PENDING", "PENDING", lender_id="l-3", funded_amount=Decimal("350.00")),
            _event("LOAN_ACTIVATED", "PENDING", "ACTIVE", total_funded=Decimal(1000)),
        ),
    ),
    "cancelled": (
        _cancelled(),
        _numbered(CREATED_EVENT, *ACCEPTS, _event("LOAN_CANCELLED", "PENDING", "CANCELLED", released=650)),
    ),
    "expired": (
        _expired(),
        _numbered(CREATED_EVENT, *ACCEPTS, _event("LOAN_EXPIRED", "PENDING", "EXPIRED", released=650)),
    ),
    # Read EXPIRED the moment its deadline passed; the job has not written LOAN_EXPIRED yet.
    "expired-unwritten": (_expired(), _numbered(CREATED_EVENT, *ACCEPTS)),
}


# rule -> (sound case, a corruption of its history that breaks that rule alone).
HISTORY_CORRUPTIONS = {
    "SEQUENCE_GAP": ("pending", lambda events: events[2].update(sequence=4)),
    "HISTORY_START": ("pending", lambda events: events[0].update(type="LENDERS_INVITED")),
    "STATUS_CHAIN": ("active", lambda events: events[2].update(from_status="ACTIVE")),
    "REPLAY_STATUS": ("pending", lambda events: events[-1].update(to_status="ACTIVE")),
    "REPLAY_TOTAL": ("declined", lambda events: events[1]["data"].update(funded_amount=Decimal("401.00"))),
    "MALFORMED": ("pending", lambda events: events[1].pop("sequence")),
    # A retried accept that ran twice would add its lender's acceptance again; here the second
    # acceptance is said to be the first lender's, so only the count of acceptances breaks.
    "ACCEPTED_TWICE": ("pending", lambda events: events[2]["data"].update(lender_id="l-1")),
}


@pytest.mark.parametrize("case", sorted(HISTORIES))
def test_sound_histories_of_every_status_pass(case):
    loan, events = HISTORIES[case]
    assert check_loan(loan, CREATED) == []
    assert check_history("loan-1", events, loan) == []


@pytest.mark.parametrize("rule", sorted(HISTORY_CORRUPTIONS))
def test_each_kind_of_broken_history_is_reported(rule):
    case, change = HISTORY_CORRUPTIONS[rule]
    loan, events = copy.deepcopy(HISTORIES[case])
    change(events)
    violations = check_history("loan-1", events, loan)
    assert {v.rule for v in violations} == {rule}, violations
    assert any(rule in str(v) and RULES[rule] in str(v) for v in violations)


def test_a_history_starts_with_its_only_loan_created():
    _, events = copy.deepcopy(HISTORIES["active"])
    events[1]["type"] = "LOAN_CREATED"
    assert {v.rule for v in check_history("loan-1", events, _funded_in_full())} == {"HISTORY_START"}
    assert {v.rule for v in check_history("loan-1", [], SOUND)} == {"HISTORY_START", "REPLAY_STATUS", "REPLAY_TOTAL"}


def test_a_missing_expiry_event_is_consistent_only_until_the_job_has_run():
    loan, events = HISTORIES["expired-unwritten"]
    assert check_history("loan-1", events, loan, expiry_ran_at=moment(BEFORE_DEADLINE)) == []
    after = check_history("loan-1", events, loan, expiry_ran_at=moment(DEADLINE))
    assert {v.rule for v in after} == {"REPLAY_STATUS", "REPLAY_TOTAL"}, after
    assert "the expiry job ran at 2030-01-31T12:00:00+00:00" in str(after[0])
    # Only an expiry can be unwritten: a cancel is written with its event.
    assert {v.rule for v in check_history("loan-1", events, _cancelled())} == {"REPLAY_STATUS", "REPLAY_TOTAL"}


def test_the_checkers_replay_is_the_domains():
    """The checker restates `replay()` so that a bug in the service cannot hide itself; the two
    agree on every history here."""
    from service.domain.events import LoanEventRecord
    from service.domain.events import replay as domain_replay

    for _, events in HISTORIES.values():
        records = [
            LoanEventRecord(
                "loan-1", "b-1", e["type"], e["at"], e["actor_id"], e["from_status"], e["to_status"], e["data"]
            )
            for e in events
        ]
        status, total = domain_replay(records)
        assert replay(events) == (str(status), total)


def test_the_report_counts_loans_and_every_violation():
    loans = [SOUND, _funded_in_full(), _cancelled(), _expired()] + [corrupt(c) for c in CORRUPTIONS.values()]
    loans = [{**loan, "loan_id": f"loan-{index}"} for index, loan in enumerate(loans)]
    histories = {"loan-0": HISTORIES["pending"][1], "loan-1": []}
    report = check_loans(loans, histories=histories)
    assert report.loans_checked == len(loans) and report.histories_checked == 2
    assert not report.ok
    assert set(report.by_rule()) >= set(CORRUPTIONS) - {"AMOUNT_CHANGED", "PARTICIPANTS_CHANGED"}
    assert report.by_rule()["HISTORY_START"] == 1  # loan-1's empty history
    assert report.loans_by_status["CANCELLED"] >= 1 and report.loans_by_status["EXPIRED"] >= 2
    assert report.participants_by_status["RELEASED"] >= 4
    assert report.events_by_type == {"LOAN_CREATED": 1, "INVITATION_ACCEPTED": 2}
    assert json.loads(json.dumps(report.as_dict()))["ok"] is False


def test_a_loan_read_mid_request_is_read_again_and_only_lasting_violations_count(monkeypatch):
    """After the run, a request a stopped user left behind may still land between the two
    reads of a borrower's view; a re-read tells that from what is stored."""
    torn = corrupt(
        _both(_set("participants.2.status", "ACCEPTED"), _set("participants.2.funded_amount", Decimal("350")))
    )
    settled = _funded_in_full()
    broken = {**corrupt(CORRUPTIONS["OVER_FUNDED"]), "loan_id": "loan-2"}
    reads = iter([[torn, broken], [settled, broken], [broken]])
    monkeypatch.setattr(check, "fetch_loans", lambda host, records: check.Fetched(next(reads), {}, [], {}))
    records = [{"loan_id": "loan-1", **CREATED}, {"loan_id": "loan-2", **CREATED}]

    report = check.check_run("http://api", records, rereads=2, pause=0)
    assert report.settled_on_reread == ["loan-1"]
    assert {v.loan_id for v in report.violations} == {"loan-2"} and not report.ok
    assert report.loans_active == 2  # the settled read of loan-1 is the one counted


def test_the_records_add_later_invitations_to_their_loan(tmp_path):
    path = tmp_path / "loans.jsonl"
    lines = [
        {"loan_id": "a", "amount": "10", "lenders": ["x@example.com"], "borrower_email": "b", "borrower_password": "p"},
        {"loan_id": "a", "invited": ["y@example.com"]},
        {"loan_id": "elsewhere", "invited": ["z@example.com"]},  # a loan this run did not record
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"torn')
    [record] = check.read_records(path)
    assert record["lenders"] == ["x@example.com", "y@example.com"]


# -- through the API ---------------------------------------------------------------------


def _record(borrower, loan: dict, invited: list[str]) -> dict:
    from conftest import PASSWORD

    return {
        "loan_id": loan["loan_id"],
        "amount": str(loan["amount"]),
        "lenders": invited,
        "borrower_email": borrower.email,
        "borrower_password": PASSWORD,
    }


def test_the_checker_reads_real_loans_through_the_api(base_url, register, tmp_path, capsys):
    borrower, first, second = register("borrower"), register("lender"), register("lender")
    invited = [first.email, second.email]
    loan = borrower.create_loan([(first.email, 600), (second.email, 600)], amount=1000)
    assert first.accept(loan["loan_id"]).status_code == 200
    assert second.accept(loan["loan_id"]).status_code == 200  # the partial 400
    records = tmp_path / "loans.jsonl"
    records.write_text(json.dumps(_record(borrower, loan, invited)) + "\n" + '{"torn')

    assert check.main(["--host", base_url, "--records", str(records), "--out", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] and report["loans_checked"] == 1 and report["loans_active"] == 1
    assert report["accepted_participants"] == 2
    assert report["histories_checked"] == 1
    assert report["events_by_type"] == {"LOAN_CREATED": 1, "INVITATION_ACCEPTED": 2, "LOAN_ACTIVATED": 1}
    assert "all hold" in capsys.readouterr().out


def test_the_checker_reads_cancelled_and_expired_loans_and_knows_when_the_expiry_job_ran(
    base_url, register, services, services_later, tmp_path, capsys
):
    borrower, first, second, third = (register(label) for label in ("borrower", "lender", "lender", "lender"))
    # Partly funded, one decline, one more lender invited, then cancelled.
    loan = borrower.create_loan([(first.email, 600), (second.email, 600)], amount=1000)
    loan_id = loan["loan_id"]
    assert first.accept(loan_id).status_code == 200
    assert second.put(f"/lender/decline/{loan_id}", json={"reason": "Not now"}).status_code == 200
    more = {"lenders": [{"email": third.email, "contribution_amount": 500}]}
    assert borrower.post(f"/loans/{loan_id}/invitations", json=more).status_code == 201
    assert borrower.post(f"/loans/{loan_id}/cancel").status_code == 200
    # Made with the clock set back past the shortest funding window: its deadline has passed,
    # so reads show it EXPIRED; no expiry job has written that yet.
    deadline = datetime.now(UTC) - timedelta(seconds=5)
    expired = services_later(-(MIN_WINDOW + 10)).loans.create(
        borrower.user_id,
        {
            "amount": 1000,
            "interest_rate": 5,
            "term": "6 months",
            "purpose": "Past its deadline",
            "lenders": [{"email": first.email, "contribution_amount": 1000}],
            "funding_deadline": deadline.isoformat(),
        },
    )
    assert borrower.get(f"/loans/{expired.loan.loan_id}").json()["status"] == "EXPIRED"
    records = tmp_path / "loans.jsonl"
    lines = [
        _record(borrower, loan, [first.email, second.email]),
        {"loan_id": loan_id, "invited": [third.email]},
        _record(borrower, {"loan_id": expired.loan.loan_id, "amount": 1000}, [first.email]),
    ]
    records.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report_path = tmp_path / "r.json"
    run = ["--host", base_url, "--records", str(records), "--out", str(report_path), "--reread-pause", "0"]

    assert check.main(run) == 0, capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert report["loans_by_status"] == {"CANCELLED": 1, "EXPIRED": 1} and report["histories_checked"] == 2
    assert report["participants_by_status"] == {"CLOSED": 2, "DECLINED": 1, "RELEASED": 1}
    assert "LOAN_EXPIRED" not in report["events_by_type"] and report["events_by_type"]["LOAN_CANCELLED"] == 1

    # Said to have run after the deadline, the job should have written LOAN_EXPIRED.
    ran_at = datetime.now(UTC).isoformat()
    assert check.main([*run, "--expiry-ran-at", ran_at]) == 1
    assert "REPLAY_STATUS" in capsys.readouterr().out
    assert services.expiry.expire_due() >= 1
    assert check.main([*run, "--expiry-ran-at", ran_at]) == 0, capsys.readouterr().out
    assert json.loads(report_path.read_text())["events_by_type"]["LOAN_EXPIRED"] == 1


def test_the_checker_fails_on_a_loan_it_cannot_read_or_an_unexpected_invitee(base_url, register, tmp_path, capsys):
    borrower, lender = register("borrower"), register("lender")
    loan = borrower.create_loan([(lender.email, 1000)], amount=1000)
    missing = {**_record(borrower, loan, [lender.email]), "loan_id": "00000000-0000-4000-8000-000000000000"}
    other = _record(borrower, loan, ["someone-else@example.com"])
    records = tmp_path / "loans.jsonl"
    records.write_text("\n".join(json.dumps(r) for r in (missing, other)) + "\n")

    assert check.main(["--host", base_url, "--records", str(records), "--reread-pause", "0"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out and "PARTICIPANTS_CHANGED" in out
    assert "unreadable 00000000-0000-4000-8000-000000000000: GET answered 404" in out


def test_no_loans_is_a_failure(base_url, tmp_path):
    records = tmp_path / "loans.jsonl"
    records.write_text("")
    assert check.main(["--host", base_url, "--records", str(records)]) == 1
