"""Profile pictures: "Mina inställningar / Profilbild" for everyone, and for company admins
the company's people with their pictures, the missing ones listed for re-upload."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web.auth import current_account, current_actor, roles_required
from admin_web.db import db
from admin_web.i18n import gettext as _
from admin_web.ratelimit import rate_limit
from admin_web.views.media_support import blobs, media_error_text, uploaded
from admin_web.views.site_common import FORM_ERROR_STATUS, Form, site_tenant
from admin_web.views.site_users import scoped_user
from pbx.errors import PbxError
from pbx.services.people import profile_pictures
from storage.models import User

bp = Blueprint("pictures", __name__)
PEOPLE = ("company_admin", "user")
ADMINS = ("company_admin", "operator")


@bp.get("/my/picture")
@roles_required(*PEOPLE)
def mine() -> Any:
    """Your picture (a placeholder with your initials when there is none)."""
    state = profile_pictures.picture_of(db(), blobs(), current_account())
    return render_template("library/picture.html", state=state, form=None)


@bp.post("/my/picture")
@roles_required(*PEOPLE)
@rate_limit("20 per minute; 200 per hour")
def upload_mine() -> Any:
    """A new picture: decoded, cropped square and re-encoded (JPEG, PNG or WebP)."""
    account = current_account()
    failed = _store(account)
    if failed is not None:
        state = profile_pictures.picture_of(db(), blobs(), account)
        return render_template("library/picture.html", state=state, form=failed), FORM_ERROR_STATUS
    return _saved(url_for(".mine"))


def _store(user: User) -> Form | None:
    """Store the uploaded picture for `user`; the form with its error when refused."""
    form = Form(request.form)
    try:
        data = uploaded()
        if not data:
            raise PbxError("", code="no_file")
        profile_pictures.upload_picture(db(), blobs(), current_actor(), user, data)
    except PbxError as exc:
        form.errors["file"] = media_error_text(exc)
        return form
    return None


def _saved(target: str) -> Response:
    flash(_("The picture is saved."), "success")
    return redirect(target)


@bp.get("/pictures/")
@roles_required(*ADMINS)
def company() -> Any:
    """The company's people and their pictures; those without one first."""
    return _company_page()


def _company_page(error_for: int | None = None, error: str = "") -> Any:
    people = profile_pictures.company_pictures(db(), blobs(), site_tenant().id)
    people.sort(key=lambda p: (not p.needs_upload, p.user.name))
    missing = sum(p.needs_upload for p in people)
    page = render_template(
        "library/pictures.html", people=people, missing=missing, error_for=error_for, error=error
    )
    return page, FORM_ERROR_STATUS if error else 200


@bp.post("/pictures/<user_id>")
@roles_required(*ADMINS)
@rate_limit("30 per minute; 300 per hour")
def upload_for(user_id: str) -> Any:
    """An admin uploads a picture for one of the company's people."""
    user = scoped_user(user_id)
    failed = _store(user)
    if failed is not None:
        return _company_page(user.id, failed.errors["file"])
    return _saved(url_for(".company"))
