"""Issue 18 item 4: ids and integers out of range, NUL and text-direction characters, sent to
every route and every form of the site, on SQLite and PostgreSQL: never a 500.

Route ids out of range are 404 (like an id that does not exist); form values are form errors
(422) or a refusal; a NUL anywhere is a 400. The routes and forms come from the app and from
the pages themselves, so ones added later are walked too."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fixtures.demo import load_demo
from pbx.services.common.scope import tenant_by_slug
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions, csrf_token
from tests.web.route_walk import VALUES, ids_owned_by, model_for, object_rules

HUGE = "99999999999999999999999999999"
BAD_VALUES = (HUGE, "-9223372036854775809", "a\x00b", "evil\u202etxt\u2066")
# Posting these would end the walker's own session (or change its language).
SKIPPED_ACTIONS = re.compile(r"/logout|/sign-out|/sessions/.*/end|/language|/account/")
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')
_ATTR = re.compile(r'(\w+)="([^"]*)"')


@pytest.fixture
def admin_client(app: Flask) -> tuple[FlaskClient, dict[type, int]]:
    runtime = app.extensions["pbx"]
    load_demo(runtime, calls_per_day=1)
    with runtime.unit_of_work() as s:
        tenant = tenant_by_slug(s, "bergstrom-bygg")
        user, password, secret = make_account(s, tenant, role="company_admin", extension="9911")
        needed = {model_for(arg) for rule in object_rules(app) for arg in rule.arguments}
        owned = {m: ids_owned_by(s, m, tenant.id)[:1] for m in needed - {None}}
        ids = {m: found[0] for m, found in owned.items() if found} | {type(user): user.id}
    client = app.test_client()
    auth = AuthActions(app, client)
    auth.login(user.email, password, secret)
    assert secret is not None
    auth.reauth(password, secret)
    return client, ids


def test_every_route_id_out_of_range_is_404(app: Flask, admin_client) -> None:
    client, _ = admin_client
    wrong = []
    for rule in object_rules(app):
        values = {arg: VALUES.get(arg, HUGE) for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]  # type: ignore[index]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for bad in (url, url.replace(HUGE, "0")):
                status = client.open(bad, method=method).status_code
                if status != 404:
                    wrong.append(f"{method} {bad} -> {status}")
    assert wrong == []


def test_every_form_with_bad_values_is_never_a_500(app: Flask, admin_client) -> None:
    client, ids = admin_client
    token = csrf_token(client, "/account/sessions")
    errors, forms = [], 0
    for page in _pages(app, ids):
        response = client.get(page)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        for action, method, fields in _forms(page, response.get_data(as_text=True)):
            if SKIPPED_ACTIONS.search(action) or not fields:
                continue
            forms += 1
            for bad in BAD_VALUES:
                data: dict[str, Any] = {name: bad for name in fields}
                if method == "post":
                    status = _status(client, "POST", action, data={**data, "csrf_token": token})
                else:
                    status = _status(client, "GET", action, query_string=data)
                if status >= 500:
                    errors.append(f"{method.upper()} {action} {bad!r} -> {status}")
        for query in ("before", "id", "q", "page"):
            for bad in BAD_VALUES:
                status = _status(client, "GET", page, query_string={query: bad})
                if status >= 500:
                    errors.append(f"GET {page}?{query}={bad!r} -> {status}")
    assert forms >= 20
    assert errors == [], "\n".join(errors)


def test_names_with_nul_or_text_direction_characters_are_refused(app: Flask, admin_client):
    client, ids = admin_client
    token = csrf_token(client, "/account/sessions")
    for name in ("Anna\u202eevil", "Bo\u2066x\u2069", "C\x00d"):
        data = {"name": name, "email": "x@example.se", "role": "user", "csrf_token": token}
        assert client.post("/users/new", data=data).status_code in (400, 422), repr(name)
    menu = {"name": "Meny", "prompt_slot_id": HUGE, "invalid_slot_id": HUGE, "csrf_token": token}
    response = client.post(f"/ivr/{ids[model_for('menu_id')]}", data=menu)
    assert response.status_code == 422


def _status(client: FlaskClient, method: str, url: str, **kwargs: Any) -> int:
    """The response's status; an exception the test client lets through counts as a 500."""
    try:
        return client.open(url, method=method, **kwargs).status_code
    except Exception:  # noqa: BLE001 - any exception here is the server error being hunted
        return 500


def _pages(app: Flask, ids: dict[type, int]) -> list[str]:
    """Every GET page: routes without arguments, and object routes with the company's ids."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.rule.startswith("/static"):
            continue
        if rule.arguments & {"token", "filename"}:
            continue
        try:
            values = {a: VALUES[a] if a in VALUES else ids[model_for(a)] for a in rule.arguments}
        except KeyError:
            continue
        pages.append(rule.build(values, append_unknown=False)[1])  # type: ignore[index]
    return sorted(set(pages))


def _forms(page: str, html: str) -> list[tuple[str, str, list[str]]]:
    found = []
    for attrs, body in _FORM.findall(html):
        attr = dict(_ATTR.findall(attrs))
        action = unescape(attr.get("action") or page)
        fields = sorted(set(_FIELD.findall(body)) - {"csrf_token"})
        found.append((action, attr.get("method", "get").lower(), fields))
    return found
