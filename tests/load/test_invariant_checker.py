"""The load run's invariant checker fails loudly: every kind of broken invariant, fed to it
as a corrupted loan document, is reported under its own rule; sound documents pass. Then the
checker end to end through the API: real loans pass, an unreadable one fails the run."""

import copy
import json
from decimal import Decimal

import pytest

from loadtests import check
from loadtests.invariants import RULES, accepted_sum, check_loan, check_loans

# A partially funded loan as its borrower sees it: 400 + 250 of 1000, one lender pending.
SOUND = {
    "loan_id": "loan-1",
    "borrower_id": "b-1",
    "amount": Decimal("1000.00"),
    "status": "PENDING",
    "total_funded": Decimal("650.00"),
    "remaining_amount": Decimal("350.00"),
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


def corrupt(change) -> dict:
    loan = copy.deepcopy(SOUND)
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


CORRUPTIONS = {
    "NEGATIVE_TOTAL": _both(_set("total_funded", Decimal("-5")), _set("remaining_amount", Decimal("1005"))),
    "OVER_FUNDED": _over_funded,
    "TOTAL_NOT_SUM": _both(_set("total_funded", Decimal("600.00")), _set("remaining_amount", Decimal("400.00"))),
    "ACTIVE_NOT_FULL": _set("status", "ACTIVE"),
    "FULL_NOT_ACTIVE": lambda loan: loan.update({**_funded_in_full(), "status": "PENDING"}),
    "REMAINING_WRONG": _set("remaining_amount", Decimal("300.00")),
    "DUPLICATE_LENDER": _duplicate_participant(2),
    "PENDING_FUNDED": _set("participants.2.funded_amount", Decimal("0.01")),
    "ACCEPTED_AMOUNT": _both(
        _set("participants.1.funded_amount", Decimal("260.00")),
        _set("total_funded", Decimal("660.00")),
        _set("remaining_amount", Decimal("340.00")),
    ),
    "UNKNOWN_STATUS": _set("participants.2.status", "DECLINED"),
    "MALFORMED": _set("total_funded", "lots"),
    "AMOUNT_CHANGED": _both(_set("amount", Decimal("1100.00")), _set("remaining_amount", Decimal("450.00"))),
    "PARTICIPANTS_CHANGED": _drop_participant(3),
}


def test_sound_loans_pass():
    assert check_loan(SOUND, CREATED) == []
    assert check_loan(_funded_in_full(), CREATED) == []
    fresh = {**copy.deepcopy(SOUND), "total_funded": 0, "remaining_amount": 1000}
    for p in fresh["participants"]:
        p.update(status="PENDING", funded_amount=0)
    assert check_loan(fresh, CREATED) == []


def test_every_rule_has_a_corruption():
    assert set(CORRUPTIONS) == set(RULES)


@pytest.mark.parametrize("rule", sorted(CORRUPTIONS))
def test_each_kind_of_violation_is_reported(rule):
    violations = check_loan(corrupt(CORRUPTIONS[rule]), CREATED)
    assert rule in {v.rule for v in violations}, violations
    assert all(v.loan_id == "loan-1" for v in violations)
    # The message says which rule and what was seen.
    assert any(rule in str(v) and RULES[rule] in str(v) for v in violations)


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


def test_the_report_counts_loans_and_every_violation():
    loans = [SOUND, _funded_in_full()] + [corrupt(c) for c in CORRUPTIONS.values()]
    loans = [{**loan, "loan_id": f"loan-{index}"} for index, loan in enumerate(loans)]
    report = check_loans(loans)
    assert report.loans_checked == len(loans)
    assert not report.ok
    assert set(report.by_rule()) >= set(RULES) - {"AMOUNT_CHANGED", "PARTICIPANTS_CHANGED"}
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
    monkeypatch.setattr(check, "fetch_loans", lambda host, records: (next(reads), []))
    records = [{"loan_id": "loan-1", **CREATED}, {"loan_id": "loan-2", **CREATED}]

    report = check.check_run("http://api", records, rereads=2, pause=0)
    assert report.settled_on_reread == ["loan-1"]
    assert {v.loan_id for v in report.violations} == {"loan-2"} and not report.ok
    assert report.loans_active == 2  # the settled read of loan-1 is the one counted


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
    assert "all hold" in capsys.readouterr().out


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
