"""The fraud rules (SECURITY.md 22), pure: records and thresholds in, hits out.

1. International forwarded legs per user and per company, per hour and per day.
2. Estimated cost of connected forwarded legs per user and per company per day, priced by
   destination class (`pbx.policies.destinations.classify`).
3. A forwarding change from a new IP or outside business hours, followed by forwarded
   traffic to outside numbers.
4. Many failed logins of one account, then a successful one.

Hours are UTC clock hours; days are Swedish calendar days (the companies' own days). Each
hit carries a key made of rule, subject and bucket, so scanning the same history twice finds
the same hits and the scan stores each once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pbx.policies.destinations import InvalidNumber, classify
from pbx.policies.fraud_thresholds import Limit, Thresholds

ZONE = ZoneInfo("Europe/Stockholm")


class Leg(NamedTuple):
    """A forwarded leg of the call log (a tuple: a day of traffic holds hundreds of
    thousands)."""

    tenant_id: int
    user_id: int | None
    destination: str
    started_at: datetime
    seconds: float  # connected time (0 when not answered)
    refused: bool = False


@dataclass(frozen=True)
class Change:
    """A forwarding change from the audit log (`forwarding.set`)."""

    event_id: int
    tenant_id: int
    user_id: int  # whose forwarding
    actor_user_id: int | None  # who changed it (None: the system)
    at: datetime
    ip: str | None
    kind: str
    destination: str | None  # the new destination (None when cleared)


@dataclass(frozen=True)
class Login:
    event_id: int
    tenant_id: int | None
    user_id: int
    at: datetime
    ok: bool
    ip: str | None


@dataclass(frozen=True)
class Hit:
    rule: str
    tenant_id: int | None
    user_id: int | None
    window_start: datetime
    window_end: datetime
    value: float
    threshold: float
    unit: str
    hard_cap: bool
    key: str
    details: dict[str, Any] = field(default_factory=dict)


class Priced(NamedTuple):
    leg: Leg
    category: str
    international: bool
    cost: float
    hour: datetime  # the clock hour the leg started in


def price(legs: Iterable[Leg], home_regions: Mapping[int, str], t: Thresholds) -> list[Priced]:
    """Each leg with its destination class and estimated cost (unparsable: 'unknown').
    Each distinct destination is classified once."""
    classes: dict[tuple[str, str], tuple[str, bool]] = {}
    out = []
    for leg in legs:
        home = home_regions.get(leg.tenant_id, "SE")
        found = classes.get((leg.destination, home))
        if found is None:
            found = classes[(leg.destination, home)] = _class_of(leg.destination, home)
        category, international = found
        cost = 0.0 if leg.refused else leg.seconds / 60 * t.rate(category)
        hour = leg.started_at.replace(minute=0, second=0, microsecond=0)
        out.append(Priced(leg, category, international, cost, hour))
    return out


def _class_of(destination: str, home: str) -> tuple[str, bool]:
    try:
        cls = classify(destination, home)
    except InvalidNumber:
        return "unknown", True
    return cls.category, cls.region != home


def hour_of(moment: datetime) -> tuple[datetime, datetime]:
    start = moment.replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=1)


def day_of(moment: datetime) -> tuple[datetime, datetime]:
    local = moment.astimezone(ZONE)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1, hours=3)).replace(hour=0)  # DST-safe next midnight
    return start.astimezone(moment.tzinfo), end.astimezone(moment.tzinfo)


Bucket = tuple[int | None, int | None, datetime, datetime]  # tenant, user, start, end


def _group(priced: Iterable[Priced], per_user: bool, span: str) -> dict[Bucket, list[Priced]]:
    groups: dict[Bucket, list[Priced]] = defaultdict(list)
    window = hour_of if span == "hour" else day_of
    windows: dict[datetime, tuple[datetime, datetime]] = {}  # by clock hour: few distinct
    for p in priced:
        if per_user and p.leg.user_id is None:
            continue
        found = windows.get(p.hour)
        if found is None:
            found = windows[p.hour] = window(p.hour)
        groups[(p.leg.tenant_id, p.leg.user_id if per_user else None, *found)].append(p)
    return groups


def _hit(
    rule: str,
    bucket: Bucket,
    value: float,
    limit: Limit,
    unit: str,
    details: Callable[[], dict[str, Any]],
) -> Hit | None:
    """A hit when `value` reaches the limit; `details` is only worked out for a hit."""
    level = limit.level(value)
    if level is None:
        return None
    tenant_id, user_id, start, end = bucket
    threshold = limit.hard_cap if level == "hard_cap" and limit.hard_cap else limit.alert
    key = f"{rule}:{tenant_id}:{user_id or '-'}:{start.isoformat()}"
    return Hit(
        rule, tenant_id, user_id, start, end, round(value, 2), threshold, unit,
        level == "hard_cap", key, details(),
    )  # fmt: skip


def _summary_of(group: Sequence[Priced]) -> Callable[[], dict[str, Any]]:
    return lambda: _summary(group)


def _given(details: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: details


def _summary(group: Sequence[Priced]) -> dict[str, Any]:
    destinations: dict[str, int] = defaultdict(int)
    for p in group:
        destinations[p.leg.destination] += 1
    top = sorted(destinations.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "legs": len(group),
        "destinations": dict(top),
        "users": sorted({p.leg.user_id for p in group if p.leg.user_id is not None}),
        "cost_sek": round(sum(p.cost for p in group), 2),
        "categories": sorted({p.category for p in group}),
    }


def international_legs(priced: Sequence[Priced], t: Thresholds) -> list[Hit]:
    """Rule 1: international forwarded legs (not refused) per user/company, hour/day."""
    abroad = [p for p in priced if p.international and not p.leg.refused]
    plans = (
        ("intl_legs_user_hour", True, "hour", t.intl_legs_user_hour),
        ("intl_legs_user_day", True, "day", t.intl_legs_user_day),
        ("intl_legs_tenant_hour", False, "hour", t.intl_legs_tenant_hour),
        ("intl_legs_tenant_day", False, "day", t.intl_legs_tenant_day),
    )
    hits = []
    for rule, per_user, span, limit in plans:
        for bucket, group in _group(abroad, per_user, span).items():
            hit = _hit(rule, bucket, len(group), limit, "legs", _summary_of(group))
            if hit is not None:
                hits.append(hit)
    return hits


def costs(priced: Sequence[Priced], t: Thresholds) -> list[Hit]:
    """Rule 2: estimated cost of connected forwarded legs per user/company per day."""
    paid = [p for p in priced if p.cost > 0]
    hits = []
    for rule, per_user, limit in (
        ("cost_user_day", True, t.cost_user_day),
        ("cost_tenant_day", False, t.cost_tenant_day),
    ):
        for bucket, group in _group(paid, per_user, "day").items():
            total = sum(p.cost for p in group)
            hit = _hit(rule, bucket, total, limit, "SEK", _summary_of(group))
            if hit is not None:
                hits.append(hit)
    return hits


def outside_business_hours(moment: datetime, t: Thresholds) -> bool:
    local = moment.astimezone(ZONE)
    start, end = t.business_hours
    return local.weekday() >= 5 or not start <= local.hour < end


@dataclass(frozen=True)
class Sighting:
    """A successful login of `user_id` from `ip` (the IPs a person is known to use)."""

    user_id: int
    at: datetime
    ip: str


def is_new_ip(change: Change, sightings: Sequence[Sighting], t: Thresholds) -> bool:
    """No successful login of the person who made the change from this IP between the
    lookback and the grace period before the change."""
    if change.ip is None or change.actor_user_id is None:
        return False
    earliest = change.at - timedelta(days=t.new_ip_lookback_days)
    latest = change.at - timedelta(hours=t.new_ip_grace_hours)
    return not any(
        s.user_id == change.actor_user_id and s.ip == change.ip and earliest <= s.at <= latest
        for s in sightings
    )


def suspicious_changes(
    changes: Sequence[Change],
    legs: Sequence[Leg],
    sightings: Sequence[Sighting],
    t: Thresholds,
) -> list[Hit]:
    """Rule 3: a change to an outside number from a new IP or outside business hours,
    followed by outside forwarded legs of that user."""
    follow = timedelta(hours=t.change_follow_hours)
    by_user: dict[int | None, list[Leg]] = defaultdict(list)
    for leg in legs:
        by_user[leg.user_id].append(leg)
    hits = []
    for change in changes:
        if change.actor_user_id is None or not (change.destination or "").startswith("+"):
            continue
        reasons = _reasons(change, sightings, t)
        if not reasons:
            continue
        after = [
            leg
            for leg in by_user.get(change.user_id, [])
            if change.at <= leg.started_at < change.at + follow and not leg.refused
        ]
        bucket = (change.tenant_id, change.user_id, change.at, change.at + follow)
        details = {
            "event_id": change.event_id, "reasons": reasons, "ip": change.ip,
            "kind": change.kind, "destination": change.destination, "legs": len(after),
            "destinations": sorted({leg.destination for leg in after})[:10],
        }  # fmt: skip
        hit = _hit(
            "forwarding_change_traffic", bucket, len(after), t.change_legs, "legs",
            _given(details),
        )  # fmt: skip
        if hit is not None:
            hits.append(hit)
    return hits


def _reasons(change: Change, sightings: Sequence[Sighting], t: Thresholds) -> list[str]:
    reasons = []
    if is_new_ip(change, sightings, t):
        reasons.append("new_ip")
    if outside_business_hours(change.at, t):
        reasons.append("outside_business_hours")
    return reasons


def failed_then_success(logins: Sequence[Login], t: Thresholds) -> list[Hit]:
    """Rule 4: at least N failed logins of one account within the window before a
    successful one (failures before an earlier success do not count)."""
    window = timedelta(hours=t.failed_login_window_hours)
    by_user: dict[int, list[Login]] = defaultdict(list)
    for login in sorted(logins, key=lambda e: (e.at, e.event_id)):
        by_user[login.user_id].append(login)
    hits = []
    for user_id, events in by_user.items():
        failures: list[Login] = []
        for event in events:
            if not event.ok:
                failures.append(event)
                continue
            recent = [f for f in failures if event.at - f.at <= window]
            failures = []
            bucket = (event.tenant_id, user_id, event.at - window, event.at)
            details = {
                "failures": len(recent), "success_ip": event.ip, "event_id": event.event_id,
                "failure_ips": sorted({f.ip for f in recent if f.ip})[:10],
            }  # fmt: skip
            hit = _hit("failed_logins_success", bucket, len(recent), t.failed_logins,
                       "failures", _given(details))  # fmt: skip
            if hit is not None:
                hits.append(hit)
    return hits


def evaluate(
    legs: Sequence[Leg],
    changes: Sequence[Change],
    logins: Sequence[Login],
    sightings: Sequence[Sighting],
    home_regions: Mapping[int, str],
    t: Thresholds,
) -> list[Hit]:
    """Every rule over one stretch of history."""
    priced = price(legs, home_regions, t)
    hits = international_legs(priced, t) + costs(priced, t)
    hits += suspicious_changes(changes, legs, sightings, t)
    hits += failed_then_success(logins, t)
    return sorted(hits, key=lambda h: (h.window_start, h.rule, h.key))
