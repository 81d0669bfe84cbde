"""The incident register (GDPR Art. 33/34, the Electronic Communications Act; SECURITY.md 25).

The operator records each incident with the fields of IMY's form — what happened, start
and end, when it was discovered, categories of data and of people, approximate numbers,
likely consequences, severity, measures, whether and how people were informed — and its
initial report to PTS (due 24 hours after discovery). Every affected company is the
controller for its own data: it is told, and its admins document their own assessment and
decision (report to IMY or not, with reasoning) within 72 hours of being told. Every
incident is documented, reported or not (Art. 33(5)). All changes are audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import NotFound, PermissionDenied, ValidationError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Incident, IncidentCompany, OutboxMessage, Tenant, User, utcnow

NATURES = ("confidentiality", "integrity", "availability")
SEVERITIES = ("low", "medium", "high")
INFORMED = ("no", "yes", "planned", "not_required")
PTS_DEADLINE = timedelta(hours=24)
COMPANY_DEADLINE = timedelta(hours=72)


@dataclass(frozen=True)
class IncidentFields:
    """What the operator writes down (IMY's form); validated by `check`."""

    title: str
    discovered_at: datetime
    description: str = ""
    nature: tuple[str, ...] = ()
    started_at: datetime | None = None
    ended_at: datetime | None = None
    data_categories: tuple[str, ...] = ()
    subject_categories: tuple[str, ...] = ()
    approx_subjects: int | None = None
    approx_records: int | None = None
    consequences: str = ""
    severity: str = "medium"
    measures: str = ""
    subjects_informed: str = "no"
    subjects_informed_at: datetime | None = None
    subjects_informed_how: str = ""
    pts_reportable: bool = True

    def check(self) -> None:
        if not self.title.strip():
            raise ValidationError("title", "give the incident a title", code="title_missing")
        if self.severity not in SEVERITIES:
            raise ValidationError("severity", f"severity is one of {', '.join(SEVERITIES)}")
        if set(self.nature) - set(NATURES):
            raise ValidationError("nature", f"nature is one or more of {', '.join(NATURES)}")
        if self.subjects_informed not in INFORMED:
            raise ValidationError("subjects_informed", f"one of {', '.join(INFORMED)}")
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise ValidationError("ended_at", "the incident ends before it starts")
        for name in ("approx_subjects", "approx_records"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValidationError(name, "a number of zero or more")

    def values(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("nature", "data_categories", "subject_categories"):
            out[name] = [v.strip() for v in out[name] if v.strip()]
        return out


def require_operator(actor: Actor) -> None:
    if not actor.is_operator:
        raise PermissionDenied("only the operator keeps the incident register")


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def create(
    session: Session, actor: Actor, data: IncidentFields, tenant_ids: Sequence[int] = ()
) -> Incident:
    require_operator(actor)
    data.check()
    incident = Incident(**data.values(), created_by_user_id=actor.user_id)
    session.add(incident)
    session.flush()
    audit.record(
        session, actor, "incident.create", target=("incident", incident.id),
        new=_audited(data.values()),
    )  # fmt: skip
    add_companies(session, actor, incident, tenant_ids)
    return incident


def update(session: Session, actor: Actor, incident: Incident, data: IncidentFields) -> Incident:
    require_operator(actor)
    data.check()
    new = data.values()
    old = {k: getattr(incident, k) for k in new}
    changed = {k for k in new if old[k] != new[k]}
    for name in changed:
        setattr(incident, name, new[name])
    incident.updated_at = utcnow()
    audit.record(
        session, actor, "incident.update", target=("incident", incident.id),
        old=_audited({k: old[k] for k in changed}), new=_audited({k: new[k] for k in changed}),
    )  # fmt: skip
    return incident


def add_companies(
    session: Session, actor: Actor, incident: Incident, tenant_ids: Iterable[int]
) -> list[IncidentCompany]:
    """Affected companies: each is told now (its 72-hour clock starts) and its admins get a
    message asking for their assessment."""
    require_operator(actor)
    have = {p.tenant_id for p in parts_of(session, incident)}
    added = []
    for tenant_id in sorted(set(tenant_ids) - have):
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no company {tenant_id}")
        part = IncidentCompany(incident_id=incident.id, tenant_id=tenant.id, notified_at=utcnow())
        session.add(part)
        added.append(part)
        _tell_admins(session, incident, tenant)
    session.flush()
    if added:
        audit.record(
            session, actor, "incident.companies_added", target=("incident", incident.id),
            new={"tenants": [p.tenant_id for p in added]},
        )  # fmt: skip
    return added


def _tell_admins(session: Session, incident: Incident, tenant: Tenant) -> None:
    admins = session.scalars(
        select(User).where(
            User.tenant_id == tenant.id, User.role == "company_admin", User.status == "active"
        )
    )
    body = (
        f'{tenant.name} berörs av incidenten "{incident.title}". Ni är personuppgiftsansvariga '
        f"för era uppgifter i växeln och behöver inom 72 timmar bedöma om incidenten ska "
        f"rapporteras till Integritetsskyddsmyndigheten (IMY), och dokumentera beslutet med "
        f"motivering i växeln (Säkerhet / Incidenter) — även om ni inte rapporterar.\n\n"
        f'{tenant.name} is affected by the incident "{incident.title}". As the controller you '
        f"must decide within 72 hours whether to report it to IMY and document your decision "
        f"with its reasoning in the site (Security / Incidents), whichever you decide.\n"
    )
    for admin in admins:
        session.add(
            OutboxMessage(
                tenant_id=tenant.id, user_id=admin.id, to_address=admin.email,
                kind="incident_assessment", subject="Incident: er bedömning behövs / "
                "Incident: your assessment is needed", body=body,
            )
        )  # fmt: skip


def record_pts_report(
    session: Session, actor: Actor, incident: Incident, reported_at: datetime, reference: str
) -> None:
    require_operator(actor)
    old = {"pts_reported_at": incident.pts_reported_at, "pts_reference": incident.pts_reference}
    incident.pts_reported_at, incident.pts_reference = reported_at, reference.strip()[:60]
    new = {"pts_reported_at": reported_at, "pts_reference": incident.pts_reference}
    audit.record(
        session, actor, "incident.pts_report", target=("incident", incident.id),
        old=_audited(old), new=_audited(new),
    )  # fmt: skip


def close(session: Session, actor: Actor, incident: Incident) -> None:
    require_operator(actor)
    incident.closed_at = utcnow()
    audit.record(session, actor, "incident.close", target=("incident", incident.id))


def list_incidents(session: Session, actor: Actor) -> list[Incident]:
    """The operator sees every incident; a company admin those their company is part of."""
    stmt = select(Incident).order_by(Incident.discovered_at.desc(), Incident.id.desc())
    if not actor.is_operator:
        if actor.role != "company_admin" or actor.tenant_id is None:
            raise PermissionDenied("only administrators see incidents")
        stmt = stmt.join(IncidentCompany).where(IncidentCompany.tenant_id == actor.tenant_id)
    return list(session.scalars(stmt))


def get_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    """NotFound for a company admin whose company is not part of it (tenant isolation)."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if not actor.is_operator:
        company_part(session, actor, incident, actor.tenant_id)
    return incident


def parts_of(session: Session, incident: Incident) -> list[IncidentCompany]:
    stmt = select(IncidentCompany).where(IncidentCompany.incident_id == incident.id)
    return list(session.scalars(stmt.order_by(IncidentCompany.tenant_id)))


def company_part(
    session: Session, actor: Actor, incident: Incident, tenant_id: int | None
) -> IncidentCompany:
    """One company's part; a company admin reaches only their own company's."""
    if not actor.is_operator and (actor.role != "company_admin" or actor.tenant_id != tenant_id):
        raise NotFound(f"no incident {incident.id}")
    part = session.scalar(
        select(IncidentCompany).where(
            IncidentCompany.incident_id == incident.id, IncidentCompany.tenant_id == tenant_id
        )
    )
    if part is None:
        raise NotFound(f"no incident {incident.id}")
    return part
