"""Who may talk to the front at all: flood limits per source and scanners.

Every source address gets a token bucket for the requests that cost us work (INVITE,
REGISTER, OPTIONS...). A source that runs it dry, or fails digest authentication again and
again, is blocked for a while: its requests are dropped without an answer, so a scanner
learns nothing and costs nothing. User agents of known SIP scanners are dropped at once.
Pure bookkeeping: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCANNERS = ("friendly-scanner", "sipvicious", "sipcli", "sip-scan", "sundayddr", "iwar", "vaxasip")


@dataclass(frozen=True)
class GuardConfig:
    rate: float = 20.0  # requests per second a source may keep up
    burst: float = 60.0  # requests a source may send at once
    auth_failures: int = 10  # failed digest attempts before the source is blocked
    block_seconds: float = 300.0
    max_sources: int = 10_000  # remembered sources (oldest forgotten first)


@dataclass
class _Source:
    tokens: float
    seen: float
    failures: int = 0
    blocked_until: float = 0.0


@dataclass
class FloodGuard:
    config: GuardConfig = field(default_factory=GuardConfig)
    blocked: int = 0  # how many times a source was blocked
    dropped: int = 0
    _sources: dict[str, _Source] = field(default_factory=dict)

    def allow(self, host: str, now: float, user_agent: str = "") -> bool:
        """Whether a request from `host` is looked at; False drops it silently."""
        if is_scanner(user_agent):
            self.dropped += 1
            return False
        source = self._source(host, now)
        if source.blocked_until > now:
            self.dropped += 1
            return False
        source.tokens = min(
            self.config.burst, source.tokens + (now - source.seen) * self.config.rate
        )
        source.seen = now
        if source.tokens < 1.0:
            self._block(source, now)
            return False
        source.tokens -= 1.0
        return True

    def failed_auth(self, host: str, now: float) -> None:
        """A wrong password or an unknown user from `host`: count it, block after too many."""
        source = self._source(host, now)
        source.failures += 1
        if source.failures >= self.config.auth_failures:
            self._block(source, now)

    def succeeded(self, host: str) -> None:
        source = self._sources.get(host)
        if source is not None:
            source.failures = 0

    def is_blocked(self, host: str, now: float) -> bool:
        source = self._sources.get(host)
        return source is not None and source.blocked_until > now

    def _block(self, source: _Source, now: float) -> None:
        source.blocked_until = now + self.config.block_seconds
        source.failures, source.tokens = 0, 0.0
        self.blocked += 1
        self.dropped += 1

    def _source(self, host: str, now: float) -> _Source:
        source = self._sources.get(host)
        if source is None:
            if len(self._sources) >= self.config.max_sources:
                self._sources.pop(next(iter(self._sources)))
            source = self._sources[host] = _Source(self.config.burst, now)
        return source


def is_scanner(user_agent: str) -> bool:
    agent = user_agent.lower()
    return any(name in agent for name in SCANNERS)
