"""Opening hours as a pure policy: weekly hours, Swedish holidays for any year, one-off
closed days, and the reason given for every verdict."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pbx.policies.opening_hours import (
    InvalidHours,
    OpeningHours,
    day_text,
    holiday_names,
    holiday_on,
    parse_day,
    status,
)

OFFICE = OpeningHours(weekly=tuple(i for d in range(5) for i in parse_day(d, "08:00-17:00")))


def test_open_within_weekday_hours_and_closed_outside() -> None:
    assert status(OFFICE, datetime(2025, 3, 3, 8, 0)).open  # Monday 08:00
    late = status(OFFICE, datetime(2025, 3, 3, 17, 0))
    assert (late.open, late.reason, late.detail) == (False, "outside_hours", "mon")
    weekend = status(OFFICE, datetime(2025, 3, 8, 10, 0))
    assert (weekend.open, weekend.reason) == (False, "outside_hours")
    assert status(OFFICE, datetime(2025, 3, 3, 9, 30)).detail == "08:00–17:00"


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2025, 6, 20), "Midsommarafton"),
        (date(2025, 12, 24), "Julafton"),
        (date(2025, 12, 31), "Nyårsafton"),
        (date(2026, 6, 19), "Midsommarafton"),  # computed for any year
        (date(2030, 4, 19), "Långfredagen"),
        (date(2025, 6, 6), "Nationaldagen"),
    ],
)
def test_swedish_holidays_and_eves_are_closed_by_default(day: date, name: str) -> None:
    assert holiday_on(day) == name
    verdict = status(OFFICE, datetime.combine(day, datetime.min.time()).replace(hour=10))
    assert (verdict.open, verdict.reason, verdict.detail) == (False, "holiday", name)


def test_a_holiday_can_be_kept_open() -> None:
    hours = OpeningHours(OFFICE.weekly, open_holidays=frozenset({"Julafton"}))
    assert status(hours, datetime(2025, 12, 24, 10, 0)).open  # a Wednesday
    assert not status(hours, datetime(2025, 12, 25, 10, 0)).open


def test_one_off_closed_day_wins_and_says_why() -> None:
    hours = OpeningHours(OFFICE.weekly, closed_days=((date(2025, 3, 4), "Personaldag"),))
    verdict = status(hours, datetime(2025, 3, 4, 10, 0))
    assert (verdict.open, verdict.reason, verdict.detail) == (False, "closed_day", "Personaldag")


def test_no_time_counts_as_open() -> None:
    assert status(OFFICE, None).reason == "no_time"


def test_weekly_text_is_parsed_and_checked() -> None:
    lunch = parse_day(0, "08:00-12:00, 13:00-17:00")
    assert day_text(OpeningHours(lunch), 0) == "08:00–12:00, 13:00–17:00"
    assert parse_day(6, "") == ()
    assert parse_day(1, "00:00-24:00")[0].end == 1440
    for bad in ("8-17", "17:00-08:00", "08:00-12:00, 11:00-13:00", "25:00-26:00"):
        with pytest.raises(InvalidHours):
            parse_day(0, bad)


def test_holiday_list_of_a_year() -> None:
    names = [name for _, name in holiday_names(2025)]
    assert {"Midsommarafton", "Julafton", "Nyårsafton", "Juldagen"} <= set(names)
