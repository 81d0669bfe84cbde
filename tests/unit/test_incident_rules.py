"""The fraud rules on crafted histories: each rule's hits and non-hits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pbx.errors import ValidationError
from pbx.policies import fraud_rules as rules
from pbx.policies.fraud_rules import Change, Leg, Login, Sighting
from pbx.policies.fraud_thresholds import DEFAULTS, Limit, from_mapping, parse_settings

# Thursday 2 July 2026, 10:00 UTC (12:00 in Stockholm): business hours.
T0 = datetime(2026, 7, 2, 10, 0, tzinfo=UTC)
HOME = {1: "SE", 2: "SE"}
FINNISH = "+358401234567"  # a Finnish mobile
JAMAICA = "+18765550123"  # +1 but not North America
SWEDISH_MOBILE = "+46701234567"


def legs(
    n: int,
    dest: str,
    *,
    user: int | None = 10,
    tenant: int = 1,
    minutes: float = 2.0,
    start: datetime = T0,
    step: timedelta = timedelta(minutes=1),
    refused: bool = False,
) -> list[Leg]:
    return [
        Leg(tenant, user, dest, start + i * step, 0.0 if refused else minutes * 60, refused)
        for i in range(n)
    ]


def hits_of(found: list[rules.Hit], rule: str) -> list[rules.Hit]:
    return [h for h in found if h.rule == rule]


def intl(legs_: list[Leg]) -> list[rules.Hit]:
    return rules.international_legs(rules.price(legs_, HOME, DEFAULTS), DEFAULTS)


def test_international_legs_per_user_and_hour_alert_and_hard_cap() -> None:
    assert hits_of(intl(legs(4, FINNISH)), "intl_legs_user_hour") == []
    (alert,) = hits_of(intl(legs(5, FINNISH)), "intl_legs_user_hour")
    assert (alert.value, alert.hard_cap, alert.user_id, alert.tenant_id) == (5, False, 10, 1)
    assert alert.details["destinations"] == {FINNISH: 5}
    (capped,) = hits_of(intl(legs(15, FINNISH)), "intl_legs_user_hour")
    assert capped.hard_cap and capped.threshold == 15


def test_domestic_and_refused_legs_are_not_international_traffic() -> None:
    assert intl(legs(30, SWEDISH_MOBILE)) == []
    assert intl(legs(30, FINNISH, refused=True)) == []


def test_plus_one_caribbean_counts_as_international() -> None:
    (hit,) = hits_of(intl(legs(5, JAMAICA)), "intl_legs_user_hour")
    assert hit.details["categories"] == ["international"]


def test_hour_buckets_split_and_day_buckets_add_up() -> None:
    spread = legs(24, FINNISH, step=timedelta(minutes=20))  # 3 an hour, 8 hours
    found = intl(spread)
    assert hits_of(found, "intl_legs_user_hour") == []
    (day,) = hits_of(found, "intl_legs_user_day")
    assert day.value == 24 and not day.hard_cap


def test_company_figures_add_every_user() -> None:
    many = [leg for user in range(20, 25) for leg in legs(4, FINNISH, user=user)]
    found = intl(many)
    assert hits_of(found, "intl_legs_user_hour") == []
    (company,) = hits_of(found, "intl_legs_tenant_hour")
    assert company.user_id is None and company.value == 20
    assert company.details["users"] == [20, 21, 22, 23, 24]


def test_cost_per_destination_class() -> None:
    cheap = legs(100, SWEDISH_MOBILE, minutes=10)  # 1000 min × 0.4 kr
    assert rules.costs(rules.price(cheap, HOME, DEFAULTS), DEFAULTS) == []
    dear = legs(10, FINNISH, minutes=20, step=timedelta(minutes=30))  # 200 min × 3 kr
    (hit,) = hits_of(rules.costs(rules.price(dear, HOME, DEFAULTS), DEFAULTS), "cost_user_day")
    assert hit.value == 600 and hit.unit == "SEK" and not hit.hard_cap
    priced = rules.price(legs(1, "+882123456789"), HOME, DEFAULTS)
    assert priced[0].category == "international_network" and priced[0].cost == 50.0


def change(
    at: datetime, ip: str | None, *, actor: int | None = 10, dest: str = FINNISH, event_id: int = 1
) -> Change:
    return Change(event_id, 1, 10, actor, at, ip, "unconditional", dest)


def test_change_from_a_new_ip_then_traffic_is_a_hit() -> None:
    known = [Sighting(10, T0 - timedelta(days=2), "192.0.2.1")]
    after = legs(3, FINNISH, start=T0 + timedelta(minutes=5))
    (hit,) = rules.suspicious_changes([change(T0, "203.0.113.9")], after, known, DEFAULTS)
    assert hit.details["reasons"] == ["new_ip"] and hit.value == 3 and not hit.hard_cap
    ten = legs(10, FINNISH, start=T0 + timedelta(minutes=5))
    (capped,) = rules.suspicious_changes([change(T0, "203.0.113.9")], ten, known, DEFAULTS)
    assert capped.hard_cap


def test_change_from_a_known_ip_in_office_hours_or_without_traffic_is_no_hit() -> None:
    known = [Sighting(10, T0 - timedelta(days=2), "192.0.2.1")]
    after = legs(3, FINNISH, start=T0 + timedelta(minutes=5))
    assert rules.suspicious_changes([change(T0, "192.0.2.1")], after, known, DEFAULTS) == []
    assert rules.suspicious_changes([change(T0, "203.0.113.9")], [], known, DEFAULTS) == []
    before = legs(3, FINNISH, start=T0 - timedelta(hours=1))
    assert rules.suspicious_changes([change(T0, "203.0.113.9")], before, known, DEFAULTS) == []
    system = change(T0, None, actor=None)
    assert rules.suspicious_changes([system], after, known, DEFAULTS) == []


def test_an_ip_first_seen_just_before_the_change_is_still_new() -> None:
    fresh = [Sighting(10, T0 - timedelta(minutes=3), "203.0.113.9")]
    after = legs(2, FINNISH, start=T0 + timedelta(minutes=5))
    (hit,) = rules.suspicious_changes([change(T0, "203.0.113.9")], after, fresh, DEFAULTS)
    assert hit.details["reasons"] == ["new_ip"]


def test_change_outside_business_hours_from_a_known_ip_is_a_hit() -> None:
    saturday_night = datetime(2026, 7, 4, 0, 30, tzinfo=UTC)  # 02:30 in Stockholm
    known = [Sighting(10, saturday_night - timedelta(days=3), "192.0.2.1")]
    after = legs(1, FINNISH, start=saturday_night + timedelta(hours=1))
    found = rules.suspicious_changes([change(saturday_night, "192.0.2.1")], after, known, DEFAULTS)
    assert [h.details["reasons"] for h in found] == [["outside_business_hours"]]


def logins(failures: int, *, start: datetime = T0, user: int = 10) -> list[Login]:
    events = [
        Login(i, 1, user, start + timedelta(minutes=i), False, "203.0.113.9")
        for i in range(failures)
    ]
    return events + [Login(999, 1, user, start + timedelta(minutes=failures), True, "203.0.113.9")]


def test_many_failed_logins_then_a_success() -> None:
    assert rules.failed_then_success(logins(9), DEFAULTS) == []
    (hit,) = rules.failed_then_success(logins(10), DEFAULTS)
    assert hit.value == 10 and hit.user_id == 10 and hit.details["success_ip"] == "203.0.113.9"
    assert not hit.hard_cap


def test_old_failures_and_failures_before_an_earlier_success_do_not_count() -> None:
    old = logins(10, start=T0 - timedelta(days=2))[:-1]
    assert rules.failed_then_success([*old, Login(1000, 1, 10, T0, True, None)], DEFAULTS) == []
    first = logins(6)
    second = [
        Login(2000 + i, 1, 10, T0 + timedelta(hours=1, minutes=i), i == 5, None) for i in range(6)
    ]
    assert rules.failed_then_success(first + second, DEFAULTS) == []


def test_failures_without_a_success_are_no_hit() -> None:
    assert rules.failed_then_success(logins(50)[:-1], DEFAULTS) == []


def test_keys_are_stable_so_a_rescan_finds_the_same_hits() -> None:
    a = [h.key for h in intl(legs(20, FINNISH))]
    assert a == [h.key for h in intl(legs(20, FINNISH))] and len(set(a)) == len(a)


def test_thresholds_come_from_a_mapping_and_from_set_options() -> None:
    custom = from_mapping(
        parse_settings(
            ["intl_legs_user_hour.hard_cap=off", "business_hours=8-17", "rates.premium=30"]
        )
    )
    assert custom.intl_legs_user_hour == Limit(5, None)
    assert custom.business_hours == (8, 17) and custom.rate("premium") == 30.0
    assert from_mapping({"cost_user_day": {"alert": 100}}).cost_user_day == Limit(100, 2000)
    with pytest.raises(ValidationError):
        from_mapping({"no_such_rule": 1})
    with pytest.raises(ValidationError):
        parse_settings(["nonsense"])
