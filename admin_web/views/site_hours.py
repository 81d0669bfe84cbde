"""Organisation / Öppettider: the company's opening hours (weekly hours, Swedish holidays of
a year kept open or closed, one-off closed days), and per number what happens when closed
(the closed message, e.g. "Stängt", then where calls go) and the number's own hours."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import (
    Form,
    actor,
    needs_reauth,
    reauth_first,
    render_form,
    site_object,
    site_tenant,
)
from admin_web.views.site_targets import choices, parse_target
from pbx.errors import ValidationError
from pbx.policies import opening_hours as policy
from pbx.services.calls.simulated import local_time_of
from pbx.services.library import slots
from pbx.services.routing import hours, numbers
from pbx.services.routing.targets import Target, load_target
from storage.models import PhoneNumber, Tenant, utcnow

bp = Blueprint("site_hours", __name__, url_prefix="/hours")
CLOSED_KINDS = ("voicemail", "user", "queue", "ivr", "external", "hangup")
WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@bp.get("/")
@roles_required("company_admin", "operator")
def index() -> Any:
    """The company's hours, holidays of the year and closed days; the numbers' branches."""
    return _page(site_tenant(), None, Form(request.args))


@bp.route("/numbers/<number_id>", methods=["GET", "POST"])
@roles_required("company_admin", "operator")
def number(number_id: str) -> Any:
    """One number: by opening hours or not, the closed message and destination."""
    tenant = site_tenant()
    row = site_object(PhoneNumber, number_id, tenant)
    form = Form(request.form if request.method == "POST" else request.args)
    if request.method == "POST":
        done = _save_branch(tenant, row, form)
        if done is not None:
            return done
    return _page(tenant, row, form)


@bp.post("/weekly")
@roles_required("company_admin", "operator")
def weekly() -> Any:
    tenant, row = _target()
    form = Form(request.form)
    days = {d: form.text(f"day_{d}") for d in range(7)}
    return _apply(tenant, row, form, lambda: hours.set_weekly(db(), actor(), tenant, days, row))


@bp.post("/holidays")
@roles_required("company_admin", "operator")
def holidays() -> Any:
    tenant, row = _target()
    form = Form(request.form)
    year = _year(form)
    names = request.form.getlist("open_holidays")
    return _apply(
        tenant, row, form, lambda: hours.set_open_holidays(db(), actor(), tenant, names, year, row)
    )


@bp.post("/closed-days")
@roles_required("company_admin", "operator")
def closed_days() -> Any:
    tenant, row = _target()
    form = Form(request.form)
    day, note = form.text("date"), form.text("note")
    return _apply(
        tenant, row, form, lambda: hours.add_closed_day(db(), actor(), tenant, day, note, row)
    )


@bp.post("/closed-days/remove")
@roles_required("company_admin", "operator")
def remove_closed_day() -> Any:
    tenant, row = _target()
    form = Form(request.form)
    day = form.text("date")
    return _apply(
        tenant, row, form, lambda: hours.remove_closed_day(db(), actor(), tenant, day, row)
    )


@bp.post("/numbers/<number_id>/company-hours")
@roles_required("company_admin", "operator")
def company_hours(number_id: str) -> Response:
    """The number follows the company's hours again (its own are removed)."""
    tenant = site_tenant()
    row = site_object(PhoneNumber, number_id, tenant)
    hours.drop_number_hours(db(), actor(), tenant, row)
    flash(_("Saved."), "success")
    return redirect(url_for(".number", number_id=row.id))


def _target() -> tuple[Tenant, PhoneNumber | None]:
    """The company, and the number whose own hours the form changes (none: the company's)."""
    tenant = site_tenant()
    number_id = request.form.get("number_id", "")
    return tenant, site_object(PhoneNumber, number_id, tenant) if number_id else None


def _apply(tenant: Tenant, row: PhoneNumber | None, form: Form, change: Any) -> Any:
    try:
        change()
    except ValidationError as exc:
        form.fail(exc)
        return _page(tenant, row, form)
    flash(_("Saved."), "success")
    if row is not None:
        return redirect(url_for(".number", number_id=row.id))
    return redirect(
        url_for(".index", year=form.text("year")) if form.text("year") else url_for(".index")
    )


def _year(form: Form) -> int:
    year = form.integer("year") or local_time_of(utcnow()).year
    return year if 2000 <= year <= 2100 else local_time_of(utcnow()).year


def _save_branch(tenant: Tenant, row: PhoneNumber, form: Form) -> Response | None:
    try:
        closed: Target | None = None
        if form.text("by_hours") == "1":
            closed = parse_target(form, "closed", CLOSED_KINDS)
            if needs_reauth(tenant, closed, "closed"):
                return reauth_first(url_for(".number", number_id=row.id))
        slot = form.optional_id("closed_slot_id")
        hours.set_closed_branch(db(), actor(), tenant, row, closed, slot)
    except ValidationError as exc:
        form.fail(exc)
        return None
    flash(_("Saved."), "success")
    return redirect(url_for(".number", number_id=row.id))


def _page(tenant: Tenant, row: PhoneNumber | None, form: Form) -> Any:
    own = hours.find_hours(db(), tenant.id, row.id) if row is not None else None
    stored = own if row is not None else hours.find_hours(db(), tenant.id)
    rules = hours.as_policy(stored) if stored is not None or row is None else None
    shown = rules or hours.as_policy(hours.find_hours(db(), tenant.id))
    year = _year(form)
    return render_form(
        "site/hours.html",
        form,
        number=row,
        own=own,
        days=[(d, WEEKDAY_LABELS[d], policy.day_text(shown, d)) for d in range(7)],
        year=year,
        holidays=[
            (day, name, name in shown.open_holidays) for day, name in policy.holiday_names(year)
        ],
        closed=[(day.isoformat(), note) for day, note in shown.closed_days],
        numbers=[(n, hours.closed_branch(n)) for n in numbers.list_numbers(db(), tenant.id)],
        current=load_target(row, "closed")
        if row is not None and row.closed_kind
        else Target("voicemail"),
        choices=choices(tenant, CLOSED_KINDS),
        slots=slots.list_slots(db(), tenant.id),
    )
