"""Opening hours (öppettider): weekly hours, Swedish public holidays and one-off closed days,
and whether a switchboard is open at a local (Europe/Stockholm) wall-clock time.

Pure: the time to judge is an argument (the call's local start time); nothing reads a clock.
Holidays come from the `holidays` package (region SE), computed for any year: the public
holidays (röda dagar) and the de-facto ones (midsommarafton, julafton, nyårsafton) are all
closed unless the company keeps one open (`open_holidays`, by its Swedish name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Literal

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
# Closed all day unless the company chooses otherwise: every public holiday and these eves.
DE_FACTO_HOLIDAYS = ("Midsommarafton", "Julafton", "Nyårsafton")
_INTERVAL = re.compile(r"^(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})$")

Reason = Literal["within_hours", "outside_hours", "holiday", "closed_day", "no_time", "no_schedule"]


class InvalidHours(ValueError):
    """Weekly hours that cannot be read (the message says which part and why)."""


@dataclass(frozen=True, slots=True)
class Interval:
    weekday: int  # 0 Monday … 6 Sunday
    start: int  # minutes after midnight
    end: int  # minutes after midnight, > start; 1440 is midnight at the end of the day

    def text(self) -> str:
        return f"{_clock(self.start)}–{_clock(self.end)}"


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """When a company (or one number) answers. No intervals: closed every day."""

    weekly: tuple[Interval, ...] = ()
    open_holidays: frozenset[str] = frozenset()  # holidays kept as ordinary days
    closed_days: tuple[tuple[date, str], ...] = ()  # one-off closed days with a note


@dataclass(frozen=True, slots=True)
class HoursStatus:
    """The verdict and why: `detail` is the holiday's name, the closed day's note or the
    interval that applied (e.g. "08:00–17:00")."""

    open: bool
    reason: Reason
    detail: str = ""


def status(hours: OpeningHours, local: datetime | None) -> HoursStatus:
    """Open or closed at `local` (naive Stockholm wall-clock time; None: no time given, which
    counts as open so that a call is never refused for want of a clock)."""
    if local is None:
        return HoursStatus(True, "no_time")
    day = local.date()
    for closed, note in hours.closed_days:
        if closed == day:
            return HoursStatus(False, "closed_day", note)
    holiday = holiday_on(day)
    if holiday is not None and holiday not in hours.open_holidays:
        return HoursStatus(False, "holiday", holiday)
    minute = local.hour * 60 + local.minute
    for interval in hours.weekly:
        if interval.weekday == local.weekday() and interval.start <= minute < interval.end:
            return HoursStatus(True, "within_hours", interval.text())
    return HoursStatus(False, "outside_hours", WEEKDAYS[local.weekday()])


def holiday_on(day: date) -> str | None:
    """The Swedish name of the holiday on `day` (public or de facto), if it is one."""
    return holidays_of(day.year).get(day)


@lru_cache(maxsize=16)
def holidays_of(year: int) -> dict[date, str]:
    """Swedish public holidays and the de-facto eves of `year`, by date (Swedish names)."""
    found = holidays.country_holidays(
        "SE", years=year, language="sv", categories=("public", "de_facto")
    )
    return {day: str(name).split(";")[0].strip() for day, name in sorted(found.items())}


def holiday_names(year: int) -> list[tuple[date, str]]:
    """The year's holidays in date order (for the site's list of closed days)."""
    return sorted(holidays_of(year).items())


# --- weekly hours as text: one line per weekday, "08:00-12:00, 13:00-17:00" ----------------


def parse_day(weekday: int, text: str) -> tuple[Interval, ...]:
    """Intervals of one weekday from "08:00-12:00, 13:00-17:00" (empty: closed that day)."""
    found: list[Interval] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _INTERVAL.match(part)
        if match is None:
            raise InvalidHours(f"{part!r}: write hours as 08:00-17:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > DAY_MINUTES or h2 > 24:
            raise InvalidHours(f"{part!r}: not a time of day")
        if end <= start:
            raise InvalidHours(f"{part!r}: the end must be after the start")
        found.append(Interval(weekday, start, end))
    found.sort(key=lambda i: i.start)
    for before, after in zip(found, found[1:], strict=False):
        if after.start < before.end:
            raise InvalidHours(f"{before.text()} and {after.text()} overlap")
    return tuple(found)


def day_text(hours: OpeningHours, weekday: int) -> str:
    """One weekday's intervals as the site shows them ("08:00–12:00, 13:00–17:00")."""
    return ", ".join(i.text() for i in hours.weekly if i.weekday == weekday)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
