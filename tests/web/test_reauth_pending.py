"""Actions survive re-authentication (issue 16 item 6): the post that asked for the password
and code is kept and made right after them, once, and only for that re-authentication."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from storage.models import ForwardingRule
from tests.web.conftest import AuthActions
from tests.web.site_data import Company, csrf, post, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]
FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def destination(app: Flask, user_id: int) -> str | None:
    with app.extensions["pbx"].unit_of_work() as s:
        found = s.scalar(select(ForwardingRule).where(ForwardingRule.user_id == user_id))
        return None if found is None else found.destination


def forward_abroad(client: FlaskClient, path: str):  # type: ignore[no-untyped-def]
    data = {"kind": "unconditional", "destination": "+46 70 765 43 21", "ring_seconds": "20"}
    return post(client, path, {**data, "active": "on", "action": "save"})


def replay(client: FlaskClient, page: str):  # type: ignore[no-untyped-def]
    """What the continue page's script does: post its form."""
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*id="reauth-continue"(.*?)</form>', page, re.S
    )
    assert form, page
    return client.post(form.group(1), data=dict(FIELD.findall(form.group(2))))


def test_the_forwarding_is_saved_right_after_reauthentication(
    app: Flask, as_admin: FlaskClient, auth: AuthActions, company: Company
) -> None:
    path = f"/users/{company.user.id}/forwarding"
    stale_reauth(as_admin)
    asked = forward_abroad(as_admin, path)
    back = asked.headers["Location"].split("next=", 1)[1]
    prompt = as_admin.get(asked.headers["Location"]).text
    assert "Inget har sparats än" in prompt and destination(app, company.user.id) is None
    token = csrf(as_admin, "/reauth")
    from tests.web.accounts import totp_code

    code = totp_code(app, company.admin.email, company.admin.totp)
    data = {"password": company.admin.password, "code": code, "csrf_token": token}
    confirmed = as_admin.post("/reauth", data={**data, "next": _unquote(back)})
    assert confirmed.status_code == 200 and 'id="reauth-continue"' in confirmed.text
    assert company.admin.password not in confirmed.text  # only the form's own fields
    done = replay(as_admin, confirmed.text)
    assert done.status_code == 302 and destination(app, company.user.id) == "+46707654321"
    # Made once: the kept post is gone, a later confirmation just goes back.
    assert (
        'id="reauth-continue"'
        not in auth.reauth(company.admin.password, company.admin.totp, next=_unquote(back)).text
    )


def test_a_kept_post_is_made_only_for_its_own_reauthentication(
    app: Flask, as_admin: FlaskClient, auth: AuthActions, company: Company
) -> None:
    stale_reauth(as_admin)
    forward_abroad(as_admin, f"/users/{company.user.id}/forwarding")
    other = auth.reauth(company.admin.password, company.admin.totp, next="/account/sessions")
    assert other.status_code == 302 and destination(app, company.user.id) is None


def test_the_call_log_export_downloads_after_reauthentication(
    app: Flask, as_admin: FlaskClient, auth: AuthActions, company: Company
) -> None:
    stale_reauth(as_admin)
    asked = post(as_admin, "/calls/export", {"number": "+46701234501"}, "/calls/")
    assert "/reauth" in asked.headers["Location"]
    confirmed = auth.reauth(company.admin.password, company.admin.totp)
    assert 'value="+46701234501"' in confirmed.text
    download = replay(as_admin, confirmed.text)
    assert download.mimetype == "text/csv" and "+46701234501" in download.text


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)
