"""What realistic traffic to one company looks like, as scripts for the call engine.

Calls cluster in business hours (Europe/Stockholm, weekdays, peaks mid-morning and early
afternoon, a trickle at weekends); callers repeat (a Zipf-like pool: a few call often, most
once); most callers dial the main number and choose in its IVR (now and then a wrong key, a
repeat with `*`, or no key at all), the rest dial direct numbers; colleagues call each other
and call out; phones are busy, ring out or are switched off at realistic rates, so forwarding
rules and voicemail get their share. Pure: the randomness comes in as a `random.Random`.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbx.engine import CallScript, DialplanSnapshot, ToIvr
from pbx.engine.events import AudioReceived, Dtmf, Timer
from pbx.engine.simulator import CallerEvent

LOCAL = ZoneInfo("Europe/Stockholm")
SLOT_MINUTES = 15
# Relative call volume per local hour on a weekday (08–17 open, a little either side).
HOURLY = {7: 1, 8: 6, 9: 10, 10: 11, 11: 8, 12: 5, 13: 8, 14: 9, 15: 7, 16: 4, 17: 1}
WEEKEND_SHARE = 0.05  # of a weekday's volume
OUTSIDE_NUMBERS = ("+4791234567", "+4520123456", "+358401234567", "+46313900199")


@dataclass(frozen=True)
class Rates:
    main_number: float = 0.6  # of outside calls, to the IVR number (if any)
    internal: float = 0.08  # colleague to colleague
    outbound: float = 0.04  # an extension calls out
    wrong_key: float = 0.05
    repeat_key: float = 0.03
    no_key: float = 0.05
    trouble: float = 0.3  # some phone is busy / rings out / is off in this call
    leaves_message: float = 0.6  # when voicemail answers
    pool_factor: float = 0.25  # distinct outside callers per call (repeat callers)


@dataclass(frozen=True)
class TimeSlots:
    """Start times (UTC epoch seconds) of every 15-minute slot in the range, weighted."""

    starts: tuple[float, ...]
    cum_weights: tuple[float, ...]

    @classmethod
    def between(cls, first: date, last: date) -> TimeSlots:
        starts: list[float] = []
        weights: list[float] = []
        day = first
        while day <= last:
            share = 1.0 if day.weekday() < 5 else WEEKEND_SHARE
            for hour, volume in HOURLY.items():
                for quarter in range(60 // SLOT_MINUTES):
                    local = datetime.combine(day, time(hour, quarter * SLOT_MINUTES), LOCAL)
                    starts.append(local.astimezone(UTC).timestamp())
                    weights.append(volume * share)
            day += timedelta(days=1)
        total, cumulative = 0.0, []
        for weight in weights:
            total += weight
            cumulative.append(total)
        return cls(tuple(starts), tuple(cumulative))

    def pick(self, rng: random.Random, count: int, part: int = 0, parts: int = 1) -> list[float]:
        """`count` start times, sorted, within part `part` of `parts` equal shares of the
        range's traffic (so consecutive parts follow each other in time)."""
        total = self.cum_weights[-1]
        low, width = total * part / parts, total / parts
        starts, cumulative, last = self.starts, self.cum_weights, len(self.starts) - 1
        slots = [
            starts[min(last, bisect(cumulative, low + rng.random() * width))] for _ in range(count)
        ]
        return sorted(start + rng.random() * SLOT_MINUTES * 60 for start in slots)


class CompanyTraffic:
    """Scripts for calls to (and within) one company."""

    def __init__(self, snap: DialplanSnapshot, rng: random.Random, calls: int, rates: Rates):
        """`rng` draws the company's callers; `use` sets the generator for the calls."""
        self.snap, self.rng, self.rates = snap, rng, rates
        self.exts = [user.ext for user in snap.users]
        self.main = [n for n in snap.numbers if isinstance(n.destination, ToIvr)]
        self.direct = [n for n in snap.numbers if not isinstance(n.destination, ToIvr)]
        self.paths = {n.e164: _menu_paths(snap, n.destination) for n in self.main}
        self.pool = _caller_pool(rng, max(50, int(calls * rates.pool_factor)))
        self.pool_weights = _zipf(len(self.pool))
        self.outside = [u.mobile for u in snap.users if u.mobile] + list(OUTSIDE_NUMBERS)

    def use(self, rng: random.Random) -> CompanyTraffic:
        self.rng = rng
        return self

    def script(self) -> CallScript:
        rng, rates = self.rng, self.rates
        roll = rng.random()
        if len(self.exts) > 1 and roll < rates.internal:
            caller, dialled = rng.sample(self.exts, 2)
            return self._script(caller, dialled, ())
        if self.exts and roll < rates.internal + rates.outbound:
            return self._script(rng.choice(self.exts), rng.choice(self.outside), ())
        caller = rng.choices(self.pool, cum_weights=self.pool_weights)[0]
        if self.main and (not self.direct or rng.random() < rates.main_number):
            number = rng.choice(self.main).e164
            return self._script(caller, number, self._keys(number))
        return self._script(caller, rng.choice(self.direct).e164, ())

    def _keys(self, number: str) -> tuple[CallerEvent, ...]:
        rng, rates = self.rng, self.rates
        roll = rng.random()
        if roll < rates.no_key:
            return ()
        keys = rng.choice(self.paths[number])
        if roll < rates.no_key + rates.wrong_key:
            return (Dtmf(rng.choice("5678")), *keys)  # usually unbound keys
        if roll < rates.no_key + rates.wrong_key + rates.repeat_key:
            return (Dtmf("*"), *keys)
        return keys

    def _script(self, caller: str, dialled: str, keys: tuple[CallerEvent, ...]) -> CallScript:
        rng = self.rng
        busy: frozenset[str] = frozenset()
        no_answer: frozenset[str] = frozenset()
        unavailable: frozenset[str] = frozenset()
        if self.exts and rng.random() < self.rates.trouble:
            phones = frozenset(rng.sample(self.exts, min(len(self.exts), rng.randint(1, 3))))
            kind = rng.random()
            if kind < 0.45:
                busy = phones
            elif kind < 0.9:
                no_answer = phones
            else:
                unavailable = phones
        if rng.random() < self.rates.leaves_message:
            keys = (*keys, AudioReceived(float(rng.randint(4, 45))))
        talk = rng.expovariate(1 / 150) + 5
        return CallScript(caller, dialled, keys, busy, no_answer, unavailable, talk)


def _menu_paths(snap: DialplanSnapshot, start: object) -> list[tuple[CallerEvent, ...]]:
    """Key sequences through the menus from a number: each key of each menu reached (two
    levels deep at most, as callers do), and waiting for the first menu's timeout."""
    paths: list[tuple[CallerEvent, ...]] = [(Timer(),)]
    todo: list[tuple[object, tuple[CallerEvent, ...]]] = [(start, ())]
    while todo:
        destination, keys = todo.pop()
        if not isinstance(destination, ToIvr) or len(keys) >= 2:
            continue
        menu = snap.menu_index.get(destination.menu_id)
        for option in menu.options if menu is not None else ():
            path = (*keys, Dtmf(option.digit))
            paths.append(path)
            todo.append((option.destination, path))
    return paths


def _caller_pool(rng: random.Random, size: int) -> list[str]:
    """Swedish mobiles and fixed numbers, a few Nordic ones."""
    pool = [f"+4670{rng.randrange(10**7):07d}" for _ in range(size * 6 // 10)]
    pool += [f"+468{rng.randrange(5 * 10**7, 8 * 10**7):08d}" for _ in range(size * 3 // 10)]
    pool += [f"+4791{rng.randrange(10**6):06d}" for _ in range(size - len(pool))]
    return pool


def _zipf(size: int) -> list[float]:
    total, cumulative = 0.0, []
    for rank in range(size):
        total += 1 / (rank + 1)
        cumulative.append(total)
    return cumulative


def split(total: int, weights: Sequence[int]) -> list[int]:
    """`total` calls shared out by `weights` (sizes of the companies), summing exactly."""
    whole = sum(weights) or 1
    shares = [total * w // whole for w in weights]
    for i in range(total - sum(shares)):
        shares[i % len(shares)] += 1
    return shares
