"""The traffic model (pure): when calls come, who calls, what they key; and the call-log row
mapping every writer shares."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pbx.engine import check_script, simulate
from pbx.engine.actions import CallLogLeg
from pbx.engine.sample import sample_snapshot
from pbx.services.calllog import rows as call_rows
from pbx.services.calls.traffic import _call_id, leg_rows
from pbx.services.calls.traffic_model import CompanyTraffic, Rates, TimeSlots, split
from storage.models.calllog import DIRECTIONS, DISPOSITIONS

STOCKHOLM = ZoneInfo("Europe/Stockholm")
JUNE = (date(2026, 6, 1), date(2026, 6, 30))


def local(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(STOCKHOLM)


def test_calls_come_in_business_hours_on_weekdays() -> None:
    times = [local(t) for t in TimeSlots.between(*JUNE).pick(random.Random(1), 5000)]
    assert all(JUNE[0] <= t.date() <= JUNE[1] for t in times)
    assert sum(t.weekday() < 5 for t in times) / len(times) > 0.95
    assert sum(8 <= t.hour < 17 for t in times) / len(times) > 0.9
    by_hour = Counter(t.hour for t in times)
    assert by_hour[10] > by_hour[12] > by_hour[17]  # mid-morning peak, lunch dip, evening


def test_consecutive_parts_follow_each_other_in_time() -> None:
    slots = TimeSlots.between(*JUNE)
    rng = random.Random(2)
    parts = [slots.pick(rng, 200, part, 4) for part in range(4)]
    for earlier, later in zip(parts, parts[1:], strict=False):
        assert earlier == sorted(earlier)
        assert earlier[-1] <= later[0] + 15 * 60  # at most one slot's overlap


def test_split_shares_out_every_call() -> None:
    assert split(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(split(7, [8, 12, 5])) == 7 and split(250, [8, 12, 5]) == [80, 120, 50]
    assert sum(split(1_000_001, [8, 12, 5])) == 1_000_001


@pytest.mark.parametrize("seed", range(5))
def test_every_generated_script_is_valid_for_the_engine(seed: int) -> None:
    snap = sample_snapshot()
    model = CompanyTraffic(snap, random.Random(seed), 500, Rates())
    outcomes = Counter()
    for _ in range(500):
        script = model.script()
        assert check_script(snap, script) == script  # numbers already in E.164 and known
        outcomes[simulate(snap, script, checked=True).disposition] += 1
    assert outcomes["unknown_number"] == 0
    assert {"answered", "voicemail"} <= set(outcomes)


def test_repeat_callers() -> None:
    model = CompanyTraffic(sample_snapshot(), random.Random(3), 2000, Rates())
    callers = Counter(model.script().caller for _ in range(2000))
    assert callers.most_common(1)[0][1] > 40 and len(callers) > 300


def test_the_same_seed_gives_the_same_calls() -> None:
    def scripts(seed: int) -> list[object]:
        model = CompanyTraffic(sample_snapshot(), random.Random(seed), 100, Rates())
        return [model.script() for _ in range(100)]

    assert scripts(4) == scripts(4) != scripts(5)


def test_call_ids_are_time_ordered_uuids() -> None:
    rng = random.Random(1)
    ids = [_call_id(rng, t) for t in (1_780_000_000.0, 1_780_000_000.5, 1_780_000_100.0)]
    assert ids == sorted(ids) and all(len(i) == 36 and i[14] == "7" for i in ids)


ENGINE_DISPOSITIONS = (
    "answered", "voicemail", "busy", "no_answer", "unavailable", "refused", "abandoned",
    "cancelled", "service", "recorded", "hung_up", "unreachable", "unknown_number",
    "step_limit", "routing_loop", "service_failed", "pin_failed", "silent", "unknown_slot",
)  # fmt: skip


@pytest.mark.parametrize("disposition", ENGINE_DISPOSITIONS)
@pytest.mark.parametrize("direction", ["inbound", "internal", "forwarded", "outbound",
                                       "service", "callback"])  # fmt: skip
def test_every_engine_leg_fits_the_call_log(disposition: str, direction: str) -> None:
    leg = CallLogLeg("c", 1, "7", direction, "+46701234567", "201", 0.0, None, 3.5, disposition)  # type: ignore[arg-type]
    [row] = call_rows.rows_of([leg], datetime(2026, 7, 2, 8, tzinfo=UTC), {})
    assert row["disposition"] in DISPOSITIONS and row["direction"] in DIRECTIONS
    [fast] = leg_rows([leg], 1_782_979_200.0, {}, "")
    assert fast[6] == row["direction"] and fast[10] == row["disposition"]
    assert fast[7] == "2026-07-02 08:00:00.000000" and fast[9] == "2026-07-02 08:00:03.500000"


def test_a_leg_belongs_to_the_user_rung_or_whose_forwarding_placed_it() -> None:
    rung = CallLogLeg("c", 2, "7", "internal", "x", "201", 0, 1, 5, "answered", user_id="11")
    forwarded = CallLogLeg(
        "c", 3, "7", "forwarded", "x", "+4670", 5, 6, 9, "answered", forwarded_from="202"
    )
    call = CallLogLeg("c", 1, "7", "inbound", "x", "+468", 0, 1, 9, "answered")
    rows = call_rows.rows_of([call, rung, forwarded], datetime(2026, 7, 2, tzinfo=UTC), {"202": 12})
    assert [r["user_id"] for r in rows] == [11, 11, 12]
