"""Per-account lockout policy (SECURITY.md item 11, NIST SP 800-63B §3.2.2) as pure arithmetic.

The caller counts consecutive failures per account (password and TOTP step alike), remembers
the time of the last one and resets the count on success; this module only says when the next
attempt may be made. The first 5 failures cost nothing (typing mistakes); from the 5th on the
next attempt waits 2^(n-5) seconds (1 s, 2 s, 4 s, … capped at 15 minutes); at 100 failures the
account is locked until an admin or a password reset unlocks it. 100 attempts over many hours
keep an online guesser far below any password that passed the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LoginThrottle:
    free_failures: int = 5
    lock_after: int = 100
    max_delay: timedelta = timedelta(minutes=15)

    def delay_after(self, failures: int) -> timedelta:
        """How long to wait after `failures` consecutive failures (zero below the 5th)."""
        if failures < self.free_failures:
            return timedelta(0)
        # Clamp the exponent: no huge integers for absurd failure counts.
        seconds = 2 ** min(failures - self.free_failures, 62)
        if seconds >= self.max_delay.total_seconds():
            return self.max_delay
        return timedelta(seconds=seconds)

    def next_allowed_at(self, failures: int, last_failure_at: datetime | None) -> datetime | None:
        """When the next attempt is allowed; None when no waiting applies.

        This ignores the lock: check `is_locked` (or use `may_attempt`) as well.
        """
        delay = self.delay_after(failures)
        if last_failure_at is None or not delay:
            return None
        return last_failure_at + delay

    def is_locked(self, failures: int) -> bool:
        """Locked: no attempt is allowed until an admin or a reset clears the count."""
        return failures >= self.lock_after

    def may_attempt(self, failures: int, last_failure_at: datetime | None, now: datetime) -> bool:
        """The one check to make before looking at a password or code."""
        if self.is_locked(failures):
            return False
        allowed_at = self.next_allowed_at(failures, last_failure_at)
        return allowed_at is None or now >= allowed_at
