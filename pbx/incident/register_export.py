"""The incident as a document (Markdown, Swedish with English labels): the register entry,
the PTS deadline, and each company's assessment and decision. A company admin's copy holds
only their own company's part."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from pbx.incident.assessment import company_deadline, pts_deadline
from pbx.incident.register import get_incident, parts_of
from pbx.policies.fraud_rules import ZONE
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.models import Incident, IncidentCompany, Tenant, utcnow

DECISION_TEXT = {
    "pending": "Ej beslutat / not decided",
    "report": "Rapporteras till IMY / reported to IMY",
    "no_report": "Rapporteras inte till IMY / not reported to IMY",
}
STATUS_TEXT = {
    "done": "klar i tid / done in time",
    "done_late": "klar för sent / done late",
    "open": "pågår / open",
    "overdue": "försenad / overdue",
    "not_required": "krävs inte / not required",
}
VALUE_TEXT = {
    "confidentiality": "konfidentialitet / confidentiality",
    "integrity": "riktighet / integrity",
    "availability": "tillgänglighet / availability",
    "low": "låg / low",
    "medium": "medel / medium",
    "high": "hög / high",
    "no": "nej / no",
    "yes": "ja / yes",
    "planned": "planerat / planned",
    "not_required": "krävs inte / not required",
}


def words(*codes: str) -> str:
    """Stored codes as the document's words ("låg / low")."""
    return ", ".join(VALUE_TEXT.get(code, code) for code in codes)


def when(moment: datetime | None) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M") if moment else "–"


def _cell(text: object) -> str:
    value = str(text).strip() if text not in (None, "") else "–"
    return value.replace("|", "\\|").replace("\n", "<br>")


def _details(incident: Incident) -> list[tuple[str, object]]:
    informed = words(incident.subjects_informed)
    if incident.subjects_informed_at:
        informed += f", {when(incident.subjects_informed_at)}"
    return [
        ("Vad hände / What happened", incident.description),
        ("Typ / Nature", words(*incident.nature)),
        ("Start", when(incident.started_at)),
        ("Slut / End", when(incident.ended_at)),
        ("Upptäckt / Discovered", when(incident.discovered_at)),
        ("Kategorier av uppgifter / Data categories", ", ".join(incident.data_categories)),
        ("Kategorier av registrerade / Data subjects", ", ".join(incident.subject_categories)),
        ("Ungefärligt antal registrerade / Approx. people", incident.approx_subjects),
        ("Ungefärligt antal poster / Approx. records", incident.approx_records),
        ("Sannolika konsekvenser / Likely consequences", incident.consequences),
        ("Allvarlighetsgrad / Severity", words(incident.severity)),
        ("Vidtagna åtgärder / Measures taken", incident.measures),
        ("Registrerade informerade / People informed", informed),
        ("Hur / How", incident.subjects_informed_how),
    ]


def _company(part: IncidentCompany, name: str, now: datetime) -> list[str]:
    due = company_deadline(part, now)
    return [
        f"### {name}",
        "",
        "| Fält / Field | Värde / Value |",
        "|---|---|",
        f"| Informerad / Told | {when(part.notified_at)} |",
        f"| Beslut senast / Decision due (72 h) | {when(due.due)} — {STATUS_TEXT[due.status]} |",
        f"| Beslut / Decision | {DECISION_TEXT.get(part.decision, part.decision)} |",
        f"| Motivering / Reasoning | {_cell(part.reasoning)} |",
        f"| Bedömning / Assessment | {_cell(part.assessment)} |",
        f"| Rapporterad till IMY / Reported to IMY | {when(part.imy_reported_at)} "
        f"{_cell(part.imy_reference) if part.imy_reference else ''} |",
        f"| Registrerade informerade / People informed | {when(part.subjects_informed_at)} |",
        f"| Beslutat / Decided | {when(part.decided_at)} |",
        "",
    ]


def to_markdown(
    session: Session, incident: Incident, tenant_id: int | None = None, now: datetime | None = None
) -> str:
    now = now or utcnow()
    pts = pts_deadline(incident, now)
    lines = [
        f"# Incident {incident.id}: {incident.title}",
        "",
        f"Utdrag ur incidentregistret / Extract from the incident register, {when(now)}.",
        "",
        "| Fält / Field | Värde / Value |",
        "|---|---|",
        *(f"| {label} | {_cell(value)} |" for label, value in _details(incident)),
        "",
        "## PTS (lagen om elektronisk kommunikation / Electronic Communications Act)",
        "",
        f"- Första rapport senast / Initial report due (24 h): {when(pts.due)} — "
        f"{STATUS_TEXT[pts.status]}",
        f"- Rapporterad / Reported: {when(incident.pts_reported_at)} "
        f"{incident.pts_reference or ''}".rstrip(),
        "",
        "## Berörda företag / Affected companies",
        "",
    ]
    for part in parts_of(session, incident):
        if tenant_id is not None and part.tenant_id != tenant_id:
            continue
        tenant = session.get(Tenant, part.tenant_id)
        lines += _company(part, tenant.name if tenant else str(part.tenant_id), now)
    return "\n".join(lines)


def export(session: Session, actor: Actor, incident_id: int) -> tuple[Incident, str]:
    """The document for this reader (a company admin gets their company's part only)."""
    incident = get_incident(session, actor, incident_id)
    own = None if actor.is_operator else actor.tenant_id
    audit.record(session, actor, "incident.export", tenant_id=own, target=("incident", incident.id))
    return incident, to_markdown(session, incident, own)
