"""SECURITY.md item 11: back-off after 5 consecutive failures, lock at 100."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pbx.security.throttle import LoginThrottle

THROTTLE = LoginThrottle()
LAST = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (4, 0), (5, 1), (6, 2), (7, 4), (14, 512), (15, 900), (99, 900)],
)
def test_schedule(failures: int, delay: int) -> None:
    assert THROTTLE.delay_after(failures) == timedelta(seconds=delay)
    assert not THROTTLE.is_locked(failures)


def test_four_failures_are_free() -> None:
    assert THROTTLE.next_allowed_at(4, LAST) is None
    assert THROTTLE.may_attempt(4, LAST, LAST)


def test_back_off_starts_after_five_failures() -> None:
    assert THROTTLE.next_allowed_at(5, LAST) == LAST + S
    assert not THROTTLE.may_attempt(5, LAST, LAST + S / 2)
    assert THROTTLE.may_attempt(5, LAST, LAST + S)
    assert THROTTLE.next_allowed_at(6, LAST) == LAST + 2 * S
    assert not THROTTLE.may_attempt(6, LAST, LAST + S)


def test_99_failures_wait_at_most_15_minutes() -> None:
    assert THROTTLE.next_allowed_at(99, LAST) == LAST + timedelta(minutes=15)
    assert not THROTTLE.may_attempt(99, LAST, LAST + timedelta(minutes=14))
    assert THROTTLE.may_attempt(99, LAST, LAST + timedelta(minutes=15))


@pytest.mark.parametrize("failures", [100, 101, 10**9])
def test_locked_at_100_whatever_the_time(failures: int) -> None:
    assert THROTTLE.is_locked(failures)
    assert not THROTTLE.may_attempt(failures, LAST, LAST + timedelta(days=365))


def test_no_recorded_failure_time_means_no_wait() -> None:
    assert THROTTLE.next_allowed_at(7, None) is None
