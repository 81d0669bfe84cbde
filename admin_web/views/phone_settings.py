"""Mina inställningar / Telefon: a user's SIP phone, and a company admin's view of anyone's.

The page shows the phones registered now (with their user agents). "Create new credentials"
(re-authentication first, like any credential change) makes a new username and password
through `people.phones` — the old password stops working at once — and shows them only in
that one response, with the server, port, realm, a baresip accounts line, Linphone's fields
and a QR code. Every response here is `Cache-Control: no-store`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, render_template, request

from admin_web.auth import current_account, reauth_required, roles_required
from admin_web.db import db, runtime
from admin_web.security_headers import no_store
from admin_web.views.site_common import actor
from admin_web.views.site_users import scoped_user
from pbx.errors import ValidationError
from pbx.services.people import phones
from pbx.services.people.phone_setup import PhoneSetup, advertised_host
from storage.models import User

bp = Blueprint("phone_settings", __name__)
no_store(bp)
PEOPLE = ("company_admin", "user")
ADMINS = ("company_admin", "operator")


@bp.get("/my/phone")
@roles_required(*PEOPLE)
def mine() -> Any:
    """Is my phone registered; new credentials for it."""
    return _page(current_account())


@bp.post("/my/phone/credentials")
@roles_required(*PEOPLE)
@reauth_required
def issue_mine() -> Any:
    """New credentials for my phone, shown once."""
    return _issue(current_account())


@bp.get("/users/<user_id>/phone")
@roles_required(*ADMINS)
def for_user(user_id: str) -> Any:
    """A user's phone as their admin sees it."""
    return _page(scoped_user(user_id))


@bp.post("/users/<user_id>/phone/credentials")
@roles_required(*ADMINS)
@reauth_required
def issue_for_user(user_id: str) -> Any:
    """New credentials for a user of the company (they are told), shown once to the admin."""
    return _issue(scoped_user(user_id))


def _page(person: User, setup: PhoneSetup | None = None, status: int = 200) -> Any:
    account = phones.account_of(db(), person)
    page = render_template(
        "site/phone.html",
        person=person,
        own=person.id == current_account().id,
        account=account,
        registrations=phones.registrations_of(db(), person.id),
        setup=setup,
        front=_front(),
    )
    return page, status


def _front() -> tuple[str, int, str]:
    """Where phones register: host, port and digest realm of the SIP front."""
    settings = runtime().settings
    site_host = urlsplit("//" + request.host).hostname or "127.0.0.1"
    return advertised_host(settings.sip_host, site_host), settings.sip_port, settings.sip_realm


def _issue(person: User) -> Any:
    settings = runtime().settings
    box = phones.secret_box(settings.require_secret_key(), settings.secret_key_fallbacks)
    try:
        made = phones.issue_credentials(db(), box, actor(), person)
    except ValidationError:
        return _page(person, status=400)  # no extension: the page says so
    return _page(person, PhoneSetup(made, *_front()))
