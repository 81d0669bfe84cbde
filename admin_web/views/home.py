"""The start page and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from admin_web.i18n import LANGUAGES

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    """The start page."""
    return render_template("home.html")


@bp.post("/language")
def set_language() -> Response:
    """Switch the interface language (Swedish or English)."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    target = request.form.get("next", "")
    return redirect(
        target if target.startswith("/") and not target.startswith("//") else url_for("home.index")
    )
