"""Samtalslista / Statistik: calls per number and queue, answered / missed / voicemail /
forwarded, waiting time in queues and the busiest hours of a period, as tables and as SVG
charts drawn on the server (readable without JavaScript); CSV export (audited)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, request

from admin_web.auth import roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import Form, actor, render_form, site_tenant
from pbx.errors import ValidationError
from pbx.services.calllog import stats

bp = Blueprint("site_stats", __name__, url_prefix="/stats")
DEFAULT_DAYS = 30
# The export's headers, column by column (stats.CSV_COLUMNS' order), and its sections.
CSV_HEADERS = (
    "Section", "Name", "Calls", "Answered", "Missed", "Voicemail", "Forwarded",
    "Average wait (s)", "Longest wait (s)",
)  # fmt: skip
SECTION_LABELS = {"total": "All numbers", "number": "Number", "queue": "Queue", "hour": "Hour"}


def _csv_words() -> stats.CsvWords:
    """Headers and section names in the page's language."""
    return stats.CsvWords(
        headers=tuple(_(header) for header in CSV_HEADERS),
        sections={code: _(label) for code, label in SECTION_LABELS.items()},
    )


def _dates(form: Form) -> tuple[date, date] | None:
    today = datetime.now(stats.LOCAL).date()
    found = []
    for name, default in (("first", today - timedelta(days=DEFAULT_DAYS - 1)), ("last", today)):
        raw = form.text(name).strip()
        try:
            found.append(date.fromisoformat(raw) if raw else default)
        except ValueError:
            form.errors[name] = _("Write the date as YYYY-MM-DD.")
    return (found[0], found[1]) if form.ok else None


@bp.get("/")
@roles_required("company_admin", "operator")
def index() -> Any:
    """The statistics of a period (the last 30 days unless chosen)."""
    form = Form(request.args)
    period, found = _dates(form), None
    if period is not None:
        try:
            found = stats.call_stats(db(), site_tenant().id, *period)
        except ValidationError as exc:
            form.fail(exc)
    first, last = period or (None, None)
    return render_form("site/stats.html", form, stats=found, first=first, last=last,
                       outcomes=stats.OUTCOMES)  # fmt: skip


@bp.post("/export")
@roles_required("company_admin", "operator")
def export() -> Any:
    """The same statistics as CSV."""
    form = Form(request.form)
    period = _dates(form)
    if period is not None:
        try:
            text = stats.export_csv(db(), actor(), site_tenant().id, *period, _csv_words())
        except ValidationError as exc:
            form.fail(exc)
        else:
            name = f"samtalsstatistik-{period[0]}-{period[1]}.csv"
            disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
            return Response("\ufeff" + text, mimetype="text/csv", headers=disposition)
    return render_form("site/stats.html", form, stats=None, first=None, last=None,
                       outcomes=stats.OUTCOMES)  # fmt: skip
