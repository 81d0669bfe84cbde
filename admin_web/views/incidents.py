"""Incidents (Säkerhet / Incidenter): the operator keeps the register (IMY's fields, the PTS
report); each affected company's admins see their own company's part only and document
their assessment and decision — report to IMY or not, with reasoning — within 72 hours.

Ids travel in the query string and forms: an incident spans companies, so it is reached
through the register's own scoping (`register.get_incident`, `company_part`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from admin_web.auth import roles_required
from admin_web.db import db, runtime
from admin_web.i18n import gettext as _
from admin_web.security_headers import no_store
from admin_web.views import incident_forms as forms
from admin_web.views.operator import form_id
from admin_web.views.site_common import Form, actor, render_form
from pbx.incident import assessment, recovery, register, register_export
from storage.models import Incident, Tenant, utcnow

bp = Blueprint("incidents", __name__, url_prefix="/incidents")
ADMINS = ("operator", "company_admin")


no_store(bp)


@bp.get("/")
@roles_required(*ADMINS)
def index() -> Any:
    """The register (a company admin sees the incidents their company is part of)."""
    rows = [(i, assessment.pts_deadline(i)) for i in register.list_incidents(db(), actor())]
    return render_form("incident/incidents.html", None, rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("operator")
def create() -> Any:
    if request.method == "GET":  # discovered now, unless the operator says otherwise
        now = Form({"discovered_at": forms.local_input(utcnow())})
        return render_form("incident/incident_form.html", now, incident=None,
                           options=_options(), ticked=_ticked())  # fmt: skip
    form = Form(request.form)
    data = forms.incident_fields(form, request.form.getlist("nature"))
    if data is not None:
        slugs = request.form.getlist("tenants")
        ids = [t.id for t in db().query(Tenant).filter(Tenant.slug.in_(slugs))]
        made = register.create(db(), actor(), data, ids)
        flash(_("Incident recorded; the companies' admins have been told."), "success")
        return redirect(url_for("incidents.show", id=made.id))
    return render_form("incident/incident_form.html", form, incident=None, options=_options(),
                       ticked=_ticked())  # fmt: skip


def _ticked(incident: Incident | None = None) -> dict[str, frozenset[str]]:
    """The boxes to show ticked: what was posted (kept after an error), else the incident's."""
    if request.method == "POST":
        return {name: frozenset(request.form.getlist(name)) for name in ("nature", "tenants")}
    natures = frozenset(incident.nature) if incident is not None else frozenset()
    return {"nature": natures, "tenants": frozenset()}


def _options() -> dict[str, Any]:
    return {
        "natures": register.NATURES,
        "severities": register.SEVERITIES,
        "informed": register.INFORMED,
        "tenants": db().query(Tenant).order_by(Tenant.name).all(),
    }


@bp.route("/edit", methods=["GET", "POST"])
@roles_required("operator")
def edit() -> Any:
    values = request.form if request.method == "POST" else request.args
    incident = register.get_incident(db(), actor(), form_id(Form(values), "id"))
    form = Form(request.form) if request.method == "POST" else Form(forms.values_of(incident))
    if request.method == "POST":
        data = forms.incident_fields(form, request.form.getlist("nature"))
        if data is not None:
            register.update(db(), actor(), incident, data)
            flash(_("Incident updated."), "success")
            return redirect(url_for("incidents.show", id=incident.id))
    return render_form("incident/incident_form.html", form, incident=incident, options=_options(),
                       ticked=_ticked(incident))  # fmt: skip


@bp.get("/show")
@roles_required(*ADMINS)
def show(form: Form | None = None) -> Any:
    """The incident, its deadlines, and the companies' parts (a company admin: their own)."""
    incident = register.get_incident(db(), actor(), form_id(Form(request.values), "id"))
    who = actor()
    parts = register.parts_of(db(), incident)
    if not who.is_operator:
        parts = [register.company_part(db(), who, incident, who.tenant_id)]
    now = utcnow()
    rows = [(p, db().get(Tenant, p.tenant_id), assessment.company_deadline(p, now)) for p in parts]
    return render_form(
        "incident/incident_show.html",
        form,
        incident=incident,
        rows=rows,
        pts=assessment.pts_deadline(incident, now),
        local=forms.local_input,
    )


@bp.post("/pts")
@roles_required("operator")
def pts() -> Any:
    form = Form(request.form)
    incident = register.get_incident(db(), actor(), form_id(form, "id"))
    reported = forms.moment(form, "pts_reported_at", required=True)
    if reported is None:
        return show(form)
    register.record_pts_report(db(), actor(), incident, reported, form.text("pts_reference"))
    flash(_("The PTS report is recorded."), "success")
    return redirect(url_for("incidents.show", id=incident.id))


@bp.post("/baseline")
@roles_required("operator")
def baseline() -> Response:
    """Media loss: scan each company of the incident and keep what is missing now."""
    incident = register.get_incident(db(), actor(), form_id(Form(request.form), "id"))
    for part in register.parts_of(db(), incident):
        recovery.store_baseline(db(), runtime().blobs(db()), part)
    flash(_("What is missing now has been recorded for each company."), "success")
    return redirect(url_for("incidents.show", id=incident.id))


@bp.post("/decide")
@roles_required("company_admin")
def decide() -> Any:
    """The company admin's assessment and decision (their own company's part only)."""
    form = Form(request.form)
    incident = register.get_incident(db(), actor(), form_id(form, "id"))
    part = register.company_part(db(), actor(), incident, actor().tenant_id)
    made = forms.decision(form)
    if made is None:
        return show(form)
    assessment.decide(db(), actor(), part, made)
    flash(_("Your decision is documented."), "success")
    return redirect(url_for("incidents.show", id=incident.id))


@bp.post("/export")
@roles_required(*ADMINS)
def export() -> Response:
    """The incident as a document (a company admin's copy: their own company's part)."""
    incident, text = register_export.export(db(), actor(), form_id(Form(request.form), "id"))
    return Response(
        text,
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="incident-{incident.id}.md"'},
    )
