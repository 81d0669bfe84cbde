"""The operator's alert list: read, dismiss with a note, or contain by hand (an alert below
the hard cap is contained only when a person decides so). Operators only; audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import NotFound, PermissionDenied, ValidationError
from pbx.incident.containment import Containment
from pbx.incident.scan import contain_alert
from pbx.services.accounts.core import AccountsConfig
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import FraudAlert, Tenant, User, utcnow

RULE_LABELS = {
    "intl_legs_user_hour": "International forwarded legs of one user in an hour",
    "intl_legs_user_day": "International forwarded legs of one user in a day",
    "intl_legs_tenant_hour": "International forwarded legs of one company in an hour",
    "intl_legs_tenant_day": "International forwarded legs of one company in a day",
    "cost_user_day": "Estimated forwarding cost of one user in a day",
    "cost_tenant_day": "Estimated forwarding cost of one company in a day",
    "forwarding_change_traffic": "Forwarding changed from a new IP or out of hours, then used",
    "failed_logins_success": "Many failed logins, then a successful one",
}

# The units the fraud rules count in (pbx.policies.fraud_rules), as words to read.
UNIT_LABELS = {"legs": "forwarded calls", "SEK": "kronor", "failures": "failed logins"}


def require_operator(actor: Actor) -> None:
    if not actor.is_operator:
        raise PermissionDenied("only the operator's staff handle fraud alerts")


@dataclass(frozen=True)
class AlertRow:
    alert: FraudAlert
    tenant_slug: str
    user_email: str
    tenant_name: str = "-"  # what a person reads; the slug is for scripts

    @property
    def label(self) -> str:
        return RULE_LABELS.get(self.alert.rule, self.alert.rule)

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS.get(self.alert.unit, self.alert.unit)


def list_alerts(
    session: Session, actor: Actor, *, status: str | None = "open", limit: int = 200
) -> list[AlertRow]:
    """Newest first; hard-cap alerts are marked in the row."""
    require_operator(actor)
    stmt = (
        select(FraudAlert, Tenant.slug, User.email, Tenant.name)
        .outerjoin(Tenant, Tenant.id == FraudAlert.tenant_id)
        .outerjoin(User, User.id == FraudAlert.user_id)
        .order_by(FraudAlert.id.desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(FraudAlert.status == status)
    return [
        AlertRow(a, slug or "-", email or "-", name or "-")
        for a, slug, email, name in session.execute(stmt)
    ]


def get_alert(session: Session, actor: Actor, alert_id: int) -> FraudAlert:
    require_operator(actor)
    alert = session.get(FraudAlert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def dismiss(session: Session, actor: Actor, alert_id: int, note: str) -> FraudAlert:
    """A false alarm: closed with the operator's reason (required)."""
    alert = get_alert(session, actor, alert_id)
    if not note.strip():
        raise ValidationError("note", "say why the alert is dismissed")
    if alert.status != "open":
        raise ValidationError("status", "the alert is not open")
    alert.status, alert.handled_at = "dismissed", utcnow()
    alert.handled_by_user_id, alert.handled_note = actor.user_id, note.strip()[:2000]
    audit.record(
        session, actor, "fraud.alert_dismissed", tenant_id=alert.tenant_id,
        target=("fraud_alert", alert.id), new={"note": alert.handled_note},
    )  # fmt: skip
    return alert


def contain(
    session: Session, config: AccountsConfig | None, actor: Actor, alert_id: int
) -> list[Containment]:
    """Contain the accounts behind an open alert now."""
    alert = get_alert(session, actor, alert_id)
    if alert.status != "open":
        raise ValidationError("status", "the alert is not open")
    done = contain_alert(session, config, actor, alert)
    alert.handled_note = "contained by the operator"
    audit.record(
        session, actor, "fraud.alert_contained", tenant_id=alert.tenant_id,
        target=("fraud_alert", alert.id), new={"users": [c.user_id for c in done]},
    )  # fmt: skip
    return done
