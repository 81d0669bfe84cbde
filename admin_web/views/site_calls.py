"""Samtalslista: call logs. Company admins see the company's calls, users their own; numbers
are masked until someone deliberately reveals one call (audited); the CSV export (admins,
after re-authentication) is audited too. Times are shown in Swedish time."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from admin_web.auth import reauth_required, roles_required
from admin_web.db import db
from admin_web.i18n import gettext
from admin_web.security_headers import no_store
from admin_web.views.site_common import Form, actor, render_form, site_tenant
from pbx.errors import ValidationError
from pbx.services.calllog import export as calllogs_export
from pbx.services.calllog import query as calls
from pbx.services.calllog import reads as calllogs_reads
from pbx.services.calllog.vocabulary import DIRECTION_LABELS, DISPOSITION_LABELS, REFUSAL_LABELS
from storage.db import begin_for_writing

bp = Blueprint("site_calls", __name__, url_prefix="/calls")
FILTER_FIELDS = ("date_from", "date_to", "number", "disposition")

no_store(bp)


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None) -> str:
    """'2026-07-03 11:00' in Swedish time (isoformat, cut: cheaper than strftime, and the
    call log shows fifty a page)."""
    return moment.astimezone(calls.ZONE).isoformat(" ", "minutes")[:16] if moment else ""


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "disposition_labels": DISPOSITION_LABELS,
        "direction_labels": DIRECTION_LABELS,
        "refusal_labels": REFUSAL_LABELS,
    }


def _filter(form: Form) -> calls.CallFilter | None:
    try:
        return calls.make_filter(**{name: form.text(name) for name in FILTER_FIELDS})
    except ValidationError as exc:
        form.fail(exc)
        return None


@bp.get("/")
@roles_required("company_admin", "user")
def index() -> Any:
    """One page of calls (50), newest first, numbers masked; filters in the query string."""
    tenant = site_tenant()
    form = Form(request.args)
    flt = _filter(form)
    page = calls.CallPage([], "")
    if flt is not None:
        try:
            page = calls.list_calls(db(), actor(), tenant, flt, form.text("cursor"))
        except ValidationError as exc:
            form.fail(exc)
        else:
            _audit_read(
                tenant, calllogs_reads.view_detail(flt, len(page.rows), form.text("cursor"))
            )
    return _page(form, page)


def _audit_read(tenant: Any, detail: dict[str, object]) -> None:
    """Audit the read (unless this browser had the same view audited within a minute) at
    once, in a short transaction of its own (see record_view): the request's read-only
    transaction ends here, the rest of the page needs no other."""
    browser = current_user.browser
    if calllogs_reads.is_repeat_view(browser, actor(), tenant, detail):
        return
    request_session = db()
    request_session.commit()
    with request_session.begin():
        begin_for_writing(request_session)
        calllogs_reads.record_view(request_session, actor(), tenant, detail, browser)


def _page(form: Form, page: calls.CallPage) -> Any:
    outcomes = _translated(DISPOSITION_LABELS)
    return render_form(
        "site/calls.html",
        form,
        page=page,
        rows=_rows_html(page.rows, outcomes, _translated(DIRECTION_LABELS)),
        can_export=current_user.account.role != "user",
        filters={name: form.text(name) for name in FILTER_FIELDS},
        outcomes=outcomes,
    )


def _translated(labels: dict[str, str]) -> dict[str, str]:
    return {key: gettext(text) for key, text in labels.items()}


# The list's rows are written here, not in the template: the call log is the site's busiest
# page, and fifty rows through Jinja (eleven escaped values each) cost more than the rest of
# the page. Outside data (numbers a caller chose) is escaped per row (html.escape: & < > " '),
# labels, the button text and the link once per page; times, durations and ids are ours.
def _rows_html(
    rows: list[calls.CallRow], outcomes: dict[str, str], directions: dict[str, str]
) -> Markup:
    outcome = {key: escape(text) for key, text in outcomes.items()}
    direction = {key: escape(text) for key, text in directions.items()}
    base, show = escape(url_for("site_calls.index")), escape(gettext("Show numbers"))
    html = []
    for row in rows:  # a loop of f-strings: the cheapest way Python builds these
        kind = row.disposition if row.disposition in outcome else ""
        forwarded = escape(row.forwarded_to) if row.forwarded_to else "–"
        html.append(
            f"<tr><td>{local_time(row.started_at)}</td><td>{escape(row.caller)}</td>"
            f"<td>{escape(row.callee)}</td><td>{direction.get(row.direction, '')}</td>"
            f'<td class="disp-{kind}">{outcome.get(kind, "")}</td><td>{row.duration_text}</td>'
            f'<td>{forwarded}</td><td><button type="submit" formaction="{base}{row.id}/reveal"'
            f' class="linklike">{show}</button></td></tr>\n'
        )
    return Markup("".join(html))


@bp.post("/<entry_id>/reveal")
@roles_required("company_admin", "user")
def reveal(entry_id: str) -> str:
    """Full numbers of one call: a deliberate, audited act (nothing is revealed by GET)."""
    row = calls.reveal_call(db(), actor(), site_tenant(), entry_id)
    return render_template("site/call_revealed.html", row=row)


@bp.post("/export")
@roles_required("company_admin")
@reauth_required
def export() -> Any:
    """CSV of every call matching the filters, full numbers; audited."""
    form = Form(request.form)
    flt = _filter(form)
    if flt is not None:
        try:
            text = calllogs_export.export_csv(db(), actor(), site_tenant(), flt, _csv_words())
            return _csv(text)
        except ValidationError as exc:
            form.fail(exc)
    return _page(form, calls.CallPage([], ""))


# The export's headers, column by column (calllog.export.EXPORT_COLUMNS' order).
CSV_HEADERS = (
    "Started at", "Answered at", "Ended at", "Direction", "From", "To", "Outcome",
    "Forwarded to", "Refused because", "Call ID", "Leg",
)  # fmt: skip


def _csv_words() -> calllogs_export.CsvWords:
    """Headers and the stored words (direction, outcome) in the page's language."""
    return calllogs_export.CsvWords(
        headers=tuple(gettext(header) for header in CSV_HEADERS),
        values={
            "direction": {code: gettext(label) for code, label in DIRECTION_LABELS.items()},
            "disposition": {code: gettext(label) for code, label in DISPOSITION_LABELS.items()},
            "refused_reason": {code: gettext(label) for code, label in REFUSAL_LABELS.items()},
        },
    )


def _csv(text: str) -> Response:
    stamp = datetime.now(calls.ZONE).strftime("%Y%m%d-%H%M")
    return Response(
        "\ufeff" + text,  # a BOM so spreadsheet programs read the UTF-8 correctly
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="samtalslista-{stamp}.csv"'},
    )
