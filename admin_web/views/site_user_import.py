"""Organisation / Användare / Importera: users from a CSV file. The upload shows a preview
with every row's errors and writes nothing; the confirmation sends the same file back
(checked again from scratch) and creates all rows or none, each new user with a setup link."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for

from admin_web.auth import accounts_config, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.views.site_common import Form, actor, error_text, render_form, site_tenant
from pbx.errors import PbxError
from pbx.services.people import user_import

bp = Blueprint("site_user_import", __name__, url_prefix="/users/import")
COLUMNS = ("name", "email", "extension", "mobile", "role")


@bp.get("/")
@roles_required("company_admin", "operator")
def start() -> Any:
    """The upload form, with the columns the file needs."""
    return render_form("site/user_import.html", None, preview=None, columns=COLUMNS)


@bp.post("/")
@roles_required("company_admin", "operator")
def check() -> Any:
    """The preview: every row with its errors (in the reader's language); nothing saved."""
    upload = request.files.get("file")
    data = upload.read(user_import.MAX_BYTES + 1) if upload else b""
    return _preview(data)


def _preview(data: bytes, form: Form | None = None) -> Any:
    preview = user_import.preview(db(), actor(), site_tenant(), data)
    form = form or Form({})
    if not preview.ok:
        form.errors["file"] = _("Correct the file and upload it again: nothing has been saved.")
    return render_form(
        "site/user_import.html", form, preview=preview, columns=COLUMNS,
        messages=_messages(preview), data=base64.b64encode(data).decode("ascii"),
    )  # fmt: skip


def _messages(preview: user_import.ImportPreview) -> dict[int, list[str]]:
    """Each row's errors (by line) and the file's (line 0) as sentences."""
    found = {row.line: [_error(exc) for exc in row.errors] for row in preview.rows}
    found[0] = [_error(exc) for exc in preview.problems]
    return found


def _error(exc: PbxError) -> str:
    field = getattr(exc, "field", "")
    label = _(FIELD_LABELS[field]) if field in FIELD_LABELS else ""
    if exc.code == "repeated":  # "same as line N"
        text = _("Same as line %(line)s.", **exc.params)
    else:
        text = error_text(exc)
    return f"{label}: {text}" if label else text


FIELD_LABELS = {"name": "Name", "email": "E-mail", "extension": "Extension", "mobile": "Mobile",
                "role": "Role"}  # fmt: skip


@bp.post("/confirm")
@roles_required("company_admin", "operator")
def confirm() -> Any:
    """Create every row's user (all or none) and send each a setup link."""
    try:
        data = base64.b64decode(request.form.get("data", ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    try:
        done = user_import.import_users(db(), accounts_config(), actor(), site_tenant(), data)
    except user_import.ImportRefused:
        return _preview(data)
    flash(_("%(count)s users are added and have been sent setup links.", count=len(done)),
          "success")  # fmt: skip
    return redirect(url_for("site_users.index"))
