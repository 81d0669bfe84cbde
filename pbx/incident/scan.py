"""The fraud scan: the rules over a stretch of history, alerts stored once, and automatic
containment of every account behind a hit above its hard cap.

Rescanning is safe: an alert is keyed by rule, subject and time bucket; a later scan that
finds a higher figure for the same bucket raises the alert (and contains, if it now crosses
the hard cap) instead of adding another.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.incident import history
from pbx.incident.containment import Containment, contain_user, fraud_destinations
from pbx.policies import fraud_rules as rules
from pbx.policies.fraud_rules import Hit, day_of
from pbx.policies.fraud_thresholds import DEFAULTS, Thresholds
from pbx.services.accounts.core import AccountsConfig
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.fraud.reasons import Reason
from pbx.services.fraud.suspension import open_block
from storage.models import FraudAlert, User, utcnow


@dataclass
class ScanResult:
    since: datetime
    until: datetime
    legs: int = 0
    changes: int = 0
    logins: int = 0
    hits: int = 0
    new_alerts: list[FraudAlert] = field(default_factory=list)
    raised: list[FraudAlert] = field(default_factory=list)
    contained: list[Containment] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "legs": self.legs,
            "changes": self.changes,
            "logins": self.logins,
            "hits": self.hits,
            "new_alerts": [alert_dict(a) for a in self.new_alerts],
            "raised_alerts": [alert_dict(a) for a in self.raised],
            "contained": [c.as_dict() | {"reset_link": None} for c in self.contained],
            "seconds": round(self.seconds, 3),
        }


def alert_dict(alert: FraudAlert) -> dict[str, Any]:
    return {
        "id": alert.id, "rule": alert.rule, "hard_cap": alert.hard_cap,
        "tenant_id": alert.tenant_id, "user_id": alert.user_id,
        "window_start": alert.window_start.isoformat(), "window_end": alert.window_end.isoformat(),
        "value": alert.value, "threshold": alert.threshold, "unit": alert.unit,
        "status": alert.status, "details": alert.details,
    }  # fmt: skip


def scan(
    session: Session,
    actor: Actor,
    since: datetime,
    until: datetime | None = None,
    *,
    thresholds: Thresholds = DEFAULTS,
    config: AccountsConfig | None = None,
    contain: bool = True,
) -> ScanResult:
    """Run every rule over [since, until) (since widened to the start of its Swedish day,
    so day buckets are whole); store alerts; contain above the hard caps."""
    started = time.perf_counter()
    until = until or utcnow()
    since = day_of(since)[0]
    found = history.load(session, since, until, thresholds)
    hits = rules.evaluate(
        found.legs, found.changes, found.logins, found.sightings, found.home_regions, thresholds
    )
    result = ScanResult(since, until, len(found.legs), len(found.changes), len(found.logins))
    result.hits = len(hits)
    store(session, hits, result)
    if contain:
        for alert in [*result.new_alerts, *result.raised]:
            if alert.hard_cap and alert.status == "open":
                result.contained += contain_alert(session, config, actor, alert, thresholds)
    result.seconds = time.perf_counter() - started
    audit.record(session, actor, "fraud.scan", new=_summary(result))
    return result


def _summary(result: ScanResult) -> dict[str, Any]:
    return {
        "since": result.since.isoformat(), "until": result.until.isoformat(),
        "legs": result.legs, "hits": result.hits, "new_alerts": len(result.new_alerts),
        "raised": len(result.raised), "contained": [c.user_id for c in result.contained],
    }  # fmt: skip


def store(session: Session, hits: Sequence[Hit], result: ScanResult) -> None:
    """New hits become alerts; a known one is raised when its figure grew."""
    known = _known(session, [h.key for h in hits])
    for hit in hits:
        alert = known.get(hit.key)
        if alert is None:
            alert = FraudAlert(
                rule=hit.rule, hard_cap=hit.hard_cap, tenant_id=hit.tenant_id,
                user_id=hit.user_id, window_start=hit.window_start, window_end=hit.window_end,
                value=hit.value, threshold=hit.threshold, unit=hit.unit, details=hit.details,
                dedupe_key=hit.key, status="open",
            )  # fmt: skip
            session.add(alert)
            known[hit.key] = alert
            result.new_alerts.append(alert)
        elif hit.value > alert.value:
            alert.value, alert.threshold, alert.details = hit.value, hit.threshold, hit.details
            alert.hard_cap = alert.hard_cap or hit.hard_cap
            result.raised.append(alert)
    session.flush()


def _known(session: Session, keys: list[str]) -> dict[str, FraudAlert]:
    found: dict[str, FraudAlert] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for alert in session.scalars(select(FraudAlert).where(FraudAlert.dedupe_key.in_(chunk))):
            found[alert.dedupe_key] = alert
    return found


def subjects(alert: FraudAlert) -> list[int]:
    """The accounts behind an alert: its user, or for a company-wide figure every user whose
    legs made it."""
    if alert.user_id is not None:
        return [alert.user_id]
    return [int(u) for u in alert.details.get("users", [])]


def _contained(session: Session, user_id: int) -> bool:
    """Already contained: a suspension in force that a containment made or took over (one
    made by the call-time caps alone still needs the rest: revert, sign-out, reset)."""
    block = open_block(session, user_id)
    return block is not None and block.alert_id is not None


def contain_alert(
    session: Session,
    config: AccountsConfig | None,
    actor: Actor,
    alert: FraudAlert,
    thresholds: Thresholds = DEFAULTS,
    now: datetime | None = None,
) -> list[Containment]:
    """Contain every account behind `alert` (an account already contained is left as it
    is); the alert is marked contained."""
    now = now or utcnow()
    done = []
    reason = Reason(alert.rule, alert.value, alert.unit, alert.threshold)
    event_id = alert.details.get("event_id") if alert.rule == "forwarding_change_traffic" else None
    for user_id in subjects(alert):
        user = session.get(User, user_id)
        if user is None or user.tenant_id is None or _contained(session, user.id):
            continue
        since = alert.window_start - timedelta(days=1)
        found = fraud_destinations(session, user, since, alert.window_end, thresholds)
        found |= set(alert.details.get("destinations", {}))
        events = {int(event_id)} if event_id is not None else set()
        done.append(
            contain_user(
                session, config, actor, user, reason=reason, destinations=found,
                event_ids=events, alert=alert, now=now,
            )
        )  # fmt: skip
    alert.status, alert.handled_at = "contained", now
    alert.handled_by_user_id = actor.user_id
    alert.handled_note = alert.handled_note or "contained automatically above the hard cap"
    return done
