"""service.domain.throttling: the login lockout policy."""

import pytest

from service.domain.throttling import LoginThrottle, TooManyAttempts

POLICY = LoginThrottle(max_failures=5, window_seconds=900, lockout_seconds=600)


def test_windows_are_fixed_slices_of_time():
    assert POLICY.window(0) == POLICY.window(899.9) == 0
    assert POLICY.window(900) == 1


def test_the_limit_locks_exactly_at_max_failures():
    assert [POLICY.locks_after(n) for n in range(1, 7)] == [False, False, False, False, True, True]


def test_a_lock_refuses_with_the_seconds_left_rounded_up():
    POLICY.check(locked_until=0, now=1000)  # never locked
    POLICY.check(locked_until=1000, now=1000)  # just expired
    with pytest.raises(TooManyAttempts) as caught:
        POLICY.check(locked_until=1000.2, now=400)
    assert caught.value.retry_after == 601
    assert caught.value.code == "TOO_MANY_ATTEMPTS"
    with pytest.raises(TooManyAttempts) as caught:
        POLICY.check(locked_until=1000.0001, now=1000)
    assert caught.value.retry_after == 1


def test_locks_and_counters_are_kept_long_enough_then_forgotten():
    assert POLICY.lock_until(1000) == 1600
    assert POLICY.forget_after(1000.7) == 1000 + 900 + 600
