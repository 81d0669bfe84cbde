"""Parsing the incident register's forms (times are Swedish, lists comma-separated)."""

from __future__ import annotations

from datetime import datetime

from admin_web.i18n import gettext as _
from admin_web.views.site_common import Form
from pbx.errors import ValidationError
from pbx.incident.assessment import Decision
from pbx.incident.register import IncidentFields
from pbx.policies.fraud_rules import ZONE
from storage.models import Incident, utcnow

LIST_FIELDS = ("data_categories", "subject_categories")


def moment(form: Form, name: str, *, required: bool = False) -> datetime | None:
    text = form.text(name).strip()
    if not text:
        if required:
            form.errors[name] = _("Required.")
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        form.errors[name] = _("Write the time as YYYY-MM-DD HH:MM.")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZONE)


def _list(form: Form, name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in form.text(name).replace("\n", ",").split(",") if p.strip())


def incident_fields(form: Form, natures: list[str]) -> IncidentFields | None:
    """The register fields from the form; None (with errors in `form`) when invalid."""
    data = IncidentFields(
        title=form.text("title"),
        discovered_at=moment(form, "discovered_at", required=True) or utcnow(),
        description=form.text("description"),
        nature=tuple(natures),
        started_at=moment(form, "started_at"),
        ended_at=moment(form, "ended_at"),
        data_categories=_list(form, "data_categories"),
        subject_categories=_list(form, "subject_categories"),
        approx_subjects=form.integer("approx_subjects"),
        approx_records=form.integer("approx_records"),
        consequences=form.text("consequences"),
        severity=form.text("severity", "medium"),
        measures=form.text("measures"),
        subjects_informed=form.text("subjects_informed", "no"),
        subjects_informed_at=moment(form, "subjects_informed_at"),
        subjects_informed_how=form.text("subjects_informed_how"),
        pts_reportable=form.text("pts_reportable", "yes") == "yes",
    )
    try:
        data.check()
    except ValidationError as exc:
        form.fail(exc)
    return data if form.ok else None


def local_input(moment_: datetime | None) -> str:
    return moment_.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M") if moment_ else ""


def values_of(incident: Incident) -> dict[str, object]:
    """An incident as form values (for the edit page)."""
    values: dict[str, object] = {
        name: getattr(incident, name)
        for name in (
            "title",
            "description",
            "consequences",
            "severity",
            "measures",
            "subjects_informed",
            "subjects_informed_how",
            "approx_subjects",
            "approx_records",
        )
    }
    for name in ("discovered_at", "started_at", "ended_at", "subjects_informed_at"):
        values[name] = local_input(getattr(incident, name))
    for name in LIST_FIELDS:
        values[name] = ", ".join(getattr(incident, name))
    values["pts_reportable"] = "yes" if incident.pts_reportable else "no"
    return {k: "" if v is None else v for k, v in values.items()}


def decision(form: Form) -> Decision | None:
    made = Decision(
        decision=form.text("decision"),
        reasoning=form.text("reasoning"),
        assessment=form.text("assessment"),
        imy_reported_at=moment(form, "imy_reported_at"),
        imy_reference=form.text("imy_reference").strip()[:60],
        subjects_informed_at=moment(form, "subjects_informed_at"),
    )
    try:
        made.check()
    except ValidationError as exc:
        form.fail(exc)
    return made if form.ok else None
