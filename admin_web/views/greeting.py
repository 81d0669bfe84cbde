"""Mina inställningar / Hälsningsfras: the signed-in user's voicemail greeting and messages.

The greeting is re-recorded through 333 on the softphone (5 record, 0 end, 4 listen,
6 delete) or here by upload or text-to-speech; received messages are listed with caller and
time even when their audio was lost, so the caller can be called back.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import current_account, current_actor, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.ratelimit import rate_limit
from admin_web.views.library_present import tts_preview
from admin_web.views.media_support import blobs, media_error_text, tts, uploaded
from admin_web.views.site_common import FORM_ERROR_STATUS, Form
from pbx.errors import NotFound, PbxError
from pbx.services.people import greetings

bp = Blueprint("greeting", __name__, url_prefix="/my/voicemail")
PEOPLE = ("company_admin", "user")


@bp.get("/")
@roles_required(*PEOPLE)
def mine() -> Any:
    """The greeting (play, how to record it again) and the received messages."""
    return _page()


def _page(upload_form: Form | None = None, tts_form: Form | None = None) -> Any:
    account = current_account()
    try:
        greeting = greetings.greeting_of(db(), blobs(), account)
    except NotFound:
        return render_template("library/greeting.html", greeting=None, messages=[])
    messages = greetings.received_messages(db(), blobs(), account)
    preview = tts_preview(request.args, "sv")
    failed = any(f is not None and f.errors for f in (upload_form, tts_form))
    page = render_template(
        "library/greeting.html", greeting=greeting, messages=messages, preview=preview,
        upload_form=upload_form, tts_form=tts_form,
    )  # fmt: skip
    return page, FORM_ERROR_STATUS if failed else 200


def _done(message: str) -> Response:
    flash(message, "success")
    return redirect(url_for(".mine"))


@bp.post("/greeting/upload")
@roles_required(*PEOPLE)
@rate_limit("30 per minute; 300 per hour")
def upload() -> Any:
    """A file as the personal greeting."""
    form = Form(request.form)
    try:
        data = uploaded()
        if not data:
            raise PbxError("", code="no_file")
        greetings.upload_greeting(db(), blobs(), current_actor(), current_account(), data)
    except PbxError as exc:
        form.errors["file"] = media_error_text(exc)
        return _page(upload_form=form)
    return _done(_("Your new greeting is saved."))


@bp.post("/greeting/tts")
@roles_required(*PEOPLE)
@rate_limit("30 per minute; 300 per hour")
def save_tts() -> Any:
    """Text-to-speech as the personal greeting."""
    form = Form(request.form)
    text, language = form.text("text"), form.text("language", "sv")
    try:
        greetings.tts_greeting(
            db(), blobs(), tts(), current_actor(), current_account(), text, language
        )
    except PbxError as exc:
        form.errors["text"] = media_error_text(exc)
        return _page(tts_form=form)
    return _done(_("Your new greeting is saved."))


@bp.post("/greeting/delete")
@roles_required(*PEOPLE)
def delete() -> Response:
    """Back to the default greeting (like key 6 in 333)."""
    greetings.remove_greeting(db(), current_actor(), current_account())
    return _done(_("Your personal greeting is removed: callers hear the default greeting."))
