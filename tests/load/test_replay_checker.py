"""The load run's checks of its retried requests fail loudly: every way a retry with one
Idempotency-Key could go wrong, fed in as recorded answers, is reported under its own rule;
sound retries pass, raced or not. Then through the API: real retries pass, and a retry the
server did not recognise (it ran twice) fails the check."""

import json
import threading
import uuid

import httpx

from loadtests import check
from loadtests.invariants import KEY_RULES
from loadtests.replays import IN_USE, answer, check_owned, check_repaid_once, check_retries, check_retry

LOAN = "loan-1"
CREATED = answer(201, b'{"loan_id": "loan-1"}', None, False, 0)
REPLAYED = {**CREATED, "replayed": True}


def _retry(first: dict, second: dict, mode: str = "lost") -> dict:
    return {"operation": "/loans", "key": "k-1", "mode": mode, "loan_id": LOAN, "attempts": [first, second]}


# rule -> a recorded retry that breaks it (and only it).
KEY_CASES = {
    "REPLAY_DIFFERS": _retry(CREATED, answer(201, b'{"loan_id": "loan-2"}', None, True, 0)),
    "REPLAY_MISSING": _retry(CREATED, answer(201, b'{"loan_id": "loan-2"}', None, False, 0)),  # created twice
}


def test_sound_retries_pass_lost_or_raced():
    assert check_retry(_retry(CREATED, REPLAYED)) == []
    # Raced: the second took the key, the first was told IN_USE once and then got the replay.
    assert check_retry(_retry({**REPLAYED, "in_use": 1}, CREATED, mode="concurrent")) == []
    # A refusal decided before the key (validation) is decided again: no replay to expect.
    refused = answer(400, b'{"error": "VALIDATION_ERROR"}', "VALIDATION_ERROR", False, 0)
    assert check_retry(_retry(refused, refused)) == []
    # A conflict the use case decided is kept like a success.
    full = answer(409, b'{"error": "LOAN_FULLY_FUNDED"}', "LOAN_FULLY_FUNDED", False, 0)
    assert check_retry(_retry(full, {**full, "replayed": True})) == []


def test_each_kind_of_broken_retry_is_reported():
    assert set(KEY_CASES) | {"LOAN_CREATED_TWICE", "REPAID_TWICE"} == KEY_RULES  # those two: below
    for rule, entry in KEY_CASES.items():
        violations = check_retry(entry)
        assert {v.rule for v in violations} == {rule}, violations
        assert violations[0].loan_id == LOAN and "/loans (lost)" in str(violations[0])


def test_a_retry_that_both_attempts_call_a_replay_or_that_stays_in_use_is_missing_its_original():
    assert "both say replayed" in str(check_retry(_retry(REPLAYED, REPLAYED)))
    stuck = answer(409, b'{"error": "IDEMPOTENCY_KEY_IN_USE"}', IN_USE, False, 3)
    violations = check_retry(_retry(CREATED, stuck, mode="concurrent"))
    assert [v.rule for v in violations] == ["REPLAY_MISSING"] and "still IN_USE" in str(violations[0])


def test_retries_are_counted_and_a_torn_record_is_malformed():
    entries = [_retry(CREATED, REPLAYED), _retry({**REPLAYED, "in_use": 2}, CREATED, "concurrent"), {"key": "k"}]
    violations, counts = check_retries(entries)
    assert [v.rule for v in violations] == ["MALFORMED"]
    assert counts == {"retried lost": 1, "retried concurrent": 1, "replays": 2, "IN_USE answers": 2}


def test_a_borrower_with_more_loans_than_creates_sent_has_one_twice():
    records = [{"loan_id": "a", "borrower_email": "b@x"}, {"loan_id": "c", "borrower_email": "d@x"}]
    assert check_owned(records, {"b@x": ["a"], "d@x": ["c"]}) == ([], [])
    [violation], unanswered = check_owned(records, {"b@x": ["a", "a2"], "d@x": ["c"]})
    assert violation.rule == "LOAN_CREATED_TWICE" and violation.loan_id == "a2" and unanswered == []
    assert "b@x has 2 loans from 1 creates sent" in str(violation)
    # Two creates sent, one answer read (the run stopped before the other's came): no duplicate.
    creates = {"b@x": {"k1", "k2"}, "d@x": {"k3"}}
    assert check_owned(records, {"b@x": ["a", "a2"], "d@x": ["c"]}, creates) == ([], ["a2"])
    violations, _ = check_owned(records, {"b@x": ["a", "a2", "a3"], "d@x": ["c"]}, creates)
    assert [v.loan_id for v in violations] == ["a2", "a3"]  # which of the unseen two is the twin, nobody knows
    assert "b@x has 3 loans from 2 creates sent" in str(violations[0])


def test_a_loan_with_more_repayments_than_were_sent_has_one_twice(tmp_path):
    records = tmp_path / "loans.jsonl"
    lines = [{"loan_id": loan, "repay_key": key} for loan, key in (("a", "k1"), ("a", "k2"), ("c", "k3"))]
    records.write_text("".join(json.dumps(line) + "\n" for line in lines))
    sent = check.read_keys(records, "repay_key", "loan_id")
    assert sent == {"a": {"k1", "k2"}, "c": {"k3"}} and check.read_records(records) == []
    ledgers = {"a": {"repayments": [{}, {}]}, "c": {"repayments": []}}  # c's only one refused, or unanswered
    assert check_repaid_once(ledgers, sent) == []
    ledgers["c"]["repayments"] = [{}, {}]
    [violation] = check_repaid_once(ledgers, sent)
    assert violation.rule == "REPAID_TWICE" and violation.loan_id == "c" and violation.rule in KEY_RULES
    assert "2 repayments from 1 sent" in str(violation)


# -- through the API ---------------------------------------------------------------------


def _answer(response: httpx.Response, in_use: int = 0) -> dict:
    code = response.json().get("error") if response.content else None
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    return answer(response.status_code, response.content, code, replayed, in_use)


def _raced(base_url: str, account, path: str, body: dict) -> list[dict]:
    """Two attempts with one key at once, each from its own connection; one told IN_USE asks
    again once the other has its answer."""
    key, start = str(uuid.uuid4()), threading.Barrier(2)
    done = [threading.Event(), threading.Event()]
    answers: list[dict] = [{}, {}]

    def attempt(i: int) -> None:
        headers = {**account.headers, "Idempotency-Key": key}
        with httpx.Client(base_url=base_url, timeout=30) as client:
            start.wait(10)
            in_use = 0
            response = client.put(path, json=body, headers=headers)
            while response.status_code == 409 and response.json()["error"] == IN_USE and in_use < 3:
                assert response.headers["Retry-After"]
                in_use += 1
                assert done[1 - i].wait(30)
                response = client.put(path, json=body, headers=headers)
            answers[i] = _answer(response, in_use)
            done[i].set()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_real_retries_pass_the_check_and_one_the_server_ran_twice_fails_it(base_url, register, tmp_path, capsys):
    from conftest import ACH, PASSWORD

    borrower, lender = register("borrower"), register("lender")
    request = {
        "amount": 1000,
        "interest_rate": 5,
        "term": "6 months",
        "purpose": "Retried",
        "lenders": [{"email": lender.email, "contribution_amount": 1000}],
    }
    keyed = {**borrower.headers, "Idempotency-Key": str(uuid.uuid4())}
    created = [borrower.client.post("/loans", json=request, headers=keyed) for _ in range(2)]  # the first "lost"
    loan_id = created[1].json()["loan_id"]
    accepts = _raced(base_url, lender, f"/lender/accept/{loan_id}", ACH)
    assert sorted(a["status"] for a in accepts) == [200, 200]

    def entry(operation: str, attempts: list[dict], mode: str) -> dict:
        return {"operation": operation, "key": "k", "mode": mode, "loan_id": loan_id, "attempts": attempts}

    retries = [entry("/loans", [_answer(r) for r in created], "lost"), entry("/lender/accept", accepts, "concurrent")]
    record = {"loan_id": loan_id, "amount": "1000", "lenders": [lender.email]}
    record.update(borrower_email=borrower.email, borrower_password=PASSWORD)
    sent = {"borrower_email": borrower.email, "create_key": keyed["Idempotency-Key"]}  # one create, sent twice
    (tmp_path / "loans.jsonl").write_text(json.dumps(sent) + "\n" + json.dumps(record) + "\n")
    (tmp_path / "retries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in retries))
    run = ["--host", base_url, "--records", str(tmp_path / "loans.jsonl"), "--retries", str(tmp_path / "retries.jsonl")]
    run += ["--out", str(tmp_path / "r.json"), "--reread-pause", "0"]

    assert check.main(run) == 0, capsys.readouterr().out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["retries"]["replays"] == 2 and report["borrowers_checked"] == 1
    assert report["events_by_type"]["INVITATION_ACCEPTED"] == 1  # funded once

    # The same create again under a new key: to the check, a retry whose key the server ignored.
    again = borrower.client.post("/loans", json=request, headers={**borrower.headers, "Idempotency-Key": "other"})
    retries.append(entry("/loans", [_answer(created[0]), _answer(again)], "lost"))
    (tmp_path / "retries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in retries))
    assert check.main(run) == 1
    assert json.loads((tmp_path / "r.json").read_text())["violations_by_rule"] == {
        "REPLAY_MISSING": 1,
        "LOAN_CREATED_TWICE": 1,
    }
