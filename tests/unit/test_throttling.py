"""service.domain.throttling: the login lockout policy."""

from service.domain.throttling import LoginThrottle

POLICY = LoginThrottle(max_failures=5, window_seconds=900, lockout_seconds=600)


def test_the_failure_that_fills_the_window_locks_it():
    assert [POLICY.locks_after(n) for n in range(1, 7)] == [False, False, False, False, True, True]


def test_a_refusal_says_the_seconds_left_rounded_up():
    refused = POLICY.refuse(window_ends=1000.2, now=400)
    assert refused.retry_after == 601 and refused.code == "TOO_MANY_ATTEMPTS"
    assert POLICY.refuse(window_ends=1000.0001, now=1000).retry_after == 1
    assert POLICY.refuse(window_ends=1000, now=1000).retry_after == 1  # never "retry in 0"
    assert POLICY.refuse(window_ends=1900.4, now=1000).retry_after == 900  # never past the policy


def test_locks_and_counters_are_kept_long_enough_then_forgotten():
    assert POLICY.lock_until(1000) == 1600
    assert POLICY.forget_after(1000.7) == 1000 + 900 + 600
