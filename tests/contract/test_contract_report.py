"""The contract run's closing line and verdict, from small reports written here: the line CI
counts, failures and warnings that fail the run, and the operations left without a 2xx."""

from devstack.contract_report import junit_outcomes, link_targets, reach_lines, verdict
from service.http.routing import load_spec

JUNIT_CLEAN = """<?xml version="1.0" encoding="utf-8"?>
<testsuites errors="0" failures="0" skipped="0" tests="3" time="1.0">
  <testsuite name="schemathesis" errors="0" failures="0" skipped="0" tests="3" time="1.0">
    <testcase name="POST /auth/login" time="0.5" />
    <testcase name="GET /health" time="0.1" />
    <testcase name="Stateful tests" time="0.4" />
  </testsuite>
</testsuites>"""

JUNIT_BROKEN = """<?xml version="1.0" encoding="utf-8"?>
<testsuites errors="1" failures="1" skipped="0" tests="3" time="1.0">
  <testsuite name="schemathesis" errors="1" failures="1" skipped="0" tests="3" time="1.0">
    <testcase name="POST /auth/login" time="0.5">
      <failure type="failure" message="not_a_server_error">Server error</failure>
    </testcase>
    <testcase name="GET /health" time="0.1">
      <error type="error">Connection refused</error>
    </testcase>
    <testcase name="Stateful tests" time="0.4" />
  </testsuite>
</testsuites>"""


def summary(generated=900, with_failures=0, errored=0, without_checks=0, **warnings) -> dict:
    """The parts of Schemathesis' JSON report (`--report json`) the verdict reads."""
    return {
        "test_cases": {
            "generated": generated,
            "with_failures": with_failures,
            "unique_failures": with_failures,
            "without_checks": without_checks,
            "errored": errored,
        },
        "warnings": {"missing_auth": [], "missing_test_data": [], "validation_mismatch": [], **warnings},
    }


def test_a_clean_run_closes_with_its_generated_cases_passed():
    result = verdict(JUNIT_CLEAN, summary(generated=883))
    assert result.closing_line == "contract: 883 passed, 0 failed"
    assert result.warnings == {} and result.failing_operations == []


def test_cases_no_check_ran_on_are_not_counted_as_passed():
    result = verdict(JUNIT_CLEAN, summary(generated=984, without_checks=17))
    assert result.closing_line == "contract: 967 passed, 0 failed" and result.unchecked == 17


def test_without_a_json_report_the_junit_test_cases_are_counted():
    assert verdict(JUNIT_CLEAN).closing_line == "contract: 3 passed, 0 failed"
    assert verdict(JUNIT_BROKEN).closing_line == "contract: 1 passed, 2 failed"


def test_failures_and_errors_in_the_junit_report_are_failed():
    assert junit_outcomes(JUNIT_BROKEN) == (["Stateful tests"], ["POST /auth/login", "GET /health"])
    result = verdict(JUNIT_BROKEN, summary(generated=900, with_failures=4, errored=1))
    assert result.closing_line == "contract: 895 passed, 5 failed"
    assert result.failing_operations == ["POST /auth/login", "GET /health"]


def test_the_junit_report_is_a_floor_for_the_failures():
    """A failure the JSON totals do not count (say, a non-fatal error) still fails the line."""
    assert verdict(JUNIT_BROKEN, summary(generated=10)).closing_line == "contract: 8 passed, 2 failed"


def test_warnings_are_kept_unless_allowed_for_the_run():
    report = summary(
        validation_mismatch=["POST /auth/verify-email", "PUT /lender/accept/{loan_id}"],
        missing_auth=["POST /auth/login"],
    )
    assert verdict(JUNIT_CLEAN, report).warnings == {
        "validation_mismatch": ["POST /auth/verify-email", "PUT /lender/accept/{loan_id}"],
        "missing_auth": ["POST /auth/login"],
    }
    allowed = {"validation_mismatch": {"POST /auth/verify-email"}}
    assert verdict(JUNIT_CLEAN, report, allowed).warnings == {
        "validation_mismatch": ["PUT /lender/accept/{loan_id}"],
        "missing_auth": ["POST /auth/login"],
    }


OPERATIONS = ["POST /auth/login", "PUT /lender/accept/{loan_id}", "GET /health"]


def test_reach_shows_2xx_per_phase_and_what_got_none():
    reach = {
        "POST /auth/login": {"fuzzing": {"2xx": 3, "4xx": 27, "fixtures": 3}, "stateful": {"2xx": 1, "4xx": 4}},
        "PUT /lender/accept/{loan_id}": {"fuzzing": {"2xx": 5, "4xx": 25}, "stateful": {"4xx": 9}},
        "GET /health": {"coverage": {"2xx": 1}},
    }
    lines, missing = reach_lines(reach, OPERATIONS)
    assert missing == ["GET /health (fuzzing)"]
    login = next(line for line in lines if line.startswith("POST /auth/login"))
    assert login.split()[2:] == ["-", "-", "3", "/", "30", "1", "/", "5"]
    assert lines[-1] == "Positive cases the hooks gave real data: POST /auth/login fuzzing 3."


def test_operations_a_stack_cannot_reach_are_exempt_and_marked():
    lines, missing = reach_lines({}, OPERATIONS, unreachable={"GET /health", "POST /auth/login"})
    assert missing == ["PUT /lender/accept/{loan_id} (fuzzing)", "any operation a link leads to (stateful)"]
    assert [line.endswith("(not reachable here)") for line in lines[1:]] == [True, False, True]


def test_the_stateful_phase_must_follow_some_link_to_a_2xx():
    reach = {
        "POST /auth/login": {"fuzzing": {"2xx": 1}, "stateful": {"2xx": 2}},
        "PUT /lender/accept/{loan_id}": {"fuzzing": {"2xx": 5}, "stateful": {"4xx": 9}},
        "GET /health": {"fuzzing": {"2xx": 1}, "stateful": {"2xx": 1}},
    }
    # Only the links' targets count: a sequence that starts with an operation proves nothing.
    _, missing = reach_lines(reach, OPERATIONS, linked={"PUT /lender/accept/{loan_id}"})
    assert missing == ["any operation a link leads to (stateful)"]
    _, missing = reach_lines(reach, OPERATIONS, linked={"POST /auth/login"})
    assert missing == []


def test_link_targets_are_read_from_the_spec():
    targets = link_targets(load_spec())
    assert {"PUT /lender/accept/{loan_id}", "GET /loans/{loan_id}", "POST /auth/login"} <= targets
    assert "GET /health" not in targets and "GET /user/dashboard" not in targets
