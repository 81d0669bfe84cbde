"""SECURITY.md 18: every route that takes an object id, walked with ids of another company.

The routes come from `app.url_map`, so pages added later are covered without being listed.
A company admin of A gets 404 for every object of B (403 only where the page is closed to
company admins whatever the id); a user of A gets 404/403 for colleagues' objects. A positive
control proves the ids are real: B's own admin does not get 404 on the same GET pages.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from fixtures.demo import load_demo
from pbx.services.accounts import sessions as accounts_sessions
from pbx.services.common.scope import tenant_by_slug
from storage.models import MediaVersion, MessageSlot, User, VoicemailMessage
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions, csrf_token
from tests.web.route_walk import (
    STATE_CHANGING,
    calls,
    ids_owned_by,
    model_for,
    object_rules,
    required_roles,
    unplaceable,
)


@pytest.fixture
def two_companies(app: Flask) -> dict[str, Any]:
    """The demo companies (every kind of object), accounts for A's admin and user, B's admin,
    and a signed-in session of one of B's users."""
    runtime = app.extensions["pbx"]
    load_demo(runtime, calls_per_day=1)
    with runtime.unit_of_work() as s:
        a, b = tenant_by_slug(s, "bergstrom-bygg"), tenant_by_slug(s, "fjallvind")
        a_admin = make_account(s, a, role="company_admin", extension="9901")
        a_user = make_account(s, a, role="user", extension="9902")
        b_admin = make_account(s, b, role="company_admin", extension="9903")
        b_user, a_colleague = (_demo_user_with_a_session(s, t) for t in (b, a))
        ids_b = _first_ids(s, app, b.id, b_user.id)
        ids_a_not_mine = _first_ids(s, app, a.id, a_colleague.id)
    return {
        "a_admin": a_admin,
        "a_user": a_user,
        "b_admin": b_admin,
        "ids_b": ids_b,
        "ids_a": ids_a_not_mine,
    }


def _demo_user_with_a_session(s, tenant) -> User:
    user = s.scalar(
        select(User).where(User.tenant_id == tenant.id, User.role == "user").order_by(User.id)
    )
    accounts_sessions.start(s, user, "192.0.2.1", "walker")
    return user


def _first_ids(s, app: Flask, tenant_id: int, user_id: int) -> dict[type, int]:
    """An object of the tenant for every model a route names; the user's own where it has
    one (so `/users/<user_id>/sessions/<session_id>` gets a matching pair)."""
    ids: dict[type, int] = {}
    needed = {model_for(arg) for rule in object_rules(app) for arg in rule.arguments} - {None}
    for model in needed:
        owned = [user_id] if model is User else ids_owned_by(s, model, tenant_id)
        if hasattr(model, "user_id"):
            owned.sort(key=lambda i: s.get(model, i).user_id != user_id)
        assert owned, f"no {model.__name__} of tenant {tenant_id} to walk with: add one"
        ids[model] = owned[0]
    return ids


def _signed_in(app: Flask, account: tuple) -> tuple[FlaskClient, str]:
    client = app.test_client()
    auth = AuthActions(app, client)
    user, password, secret = account
    auth.login(user.email, password, secret)
    if secret:
        auth.reauth(password, secret)  # so re-authentication does not stand in for the check
    return client, csrf_token(client, "/account/sessions")


def _request(client: FlaskClient, method: str, url: str, token: str):
    data = {"csrf_token": token} if method in STATE_CHANGING else None
    return client.open(url, method=method, data=data)


def test_every_route_argument_names_a_known_object(app: Flask) -> None:
    assert unplaceable(app) == []


def test_company_admin_gets_404_for_every_object_of_another_company(
    app: Flask, two_companies: dict[str, Any]
) -> None:
    client, token = _signed_in(app, two_companies["a_admin"])
    wrong = []
    for call in calls(app, two_companies["ids_b"]):
        status = _request(client, call.method, call.url, token).status_code
        roles = required_roles(app, call.rule)
        closed_to_admins = roles is not None and "company_admin" not in roles
        if status != 404 and not (status == 403 and closed_to_admins):
            wrong.append(f"{call.method} {call.url} -> {status}")
    assert wrong == []


def test_user_reaches_only_their_own_objects(app: Flask, two_companies: dict[str, Any]) -> None:
    client, token = _signed_in(app, two_companies["a_user"])
    wrong = []
    for ids in (two_companies["ids_a"], two_companies["ids_b"]):
        for call in calls(app, ids):
            status = _request(client, call.method, call.url, token).status_code
            if status not in (403, 404):
                wrong.append(f"{call.method} {call.url} -> {status}")
    assert wrong == []


def test_the_ids_are_real_for_their_own_company_admin(
    app: Flask, two_companies: dict[str, Any]
) -> None:
    client, token = _signed_in(app, two_companies["b_admin"])
    missing = [
        f"GET {call.url} -> {status}"
        for call in calls(app, two_companies["ids_b"], frozenset({"GET"}))
        if (status := _request(client, "GET", call.url, token).status_code) in (404, 500)
    ]
    assert missing == []


def test_an_operator_gets_404_for_every_voicemail_and_personal_greeting(
    app: Flask, two_companies: dict[str, Any]
) -> None:
    """Issue 18 item 2: received voicemail and personal greetings are the users' own data;
    an operator administering the company gets them on no route (404 like another company's
    object), while the company's other messages stay reachable (positive control)."""
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        b = tenant_by_slug(s, "fjallvind")
        operator = make_account(s, None, role="operator")
        greeting = s.scalar(
            select(MessageSlot)
            .where(MessageSlot.tenant_id == b.id, MessageSlot.kind == "greeting")
            .where(MessageSlot.current_version_id.is_not(None))
        )
        welcome = s.scalar(
            select(MessageSlot)
            .where(MessageSlot.tenant_id == b.id, MessageSlot.kind == "welcome")
            .where(MessageSlot.current_version_id.is_not(None))
        )
        assert greeting is not None and welcome is not None
        own = {
            VoicemailMessage: two_companies["ids_b"][VoicemailMessage],
            MessageSlot: greeting.id,
            MediaVersion: greeting.current_version_id,
        }
        tenant_id, welcome_id = b.id, welcome.id
    client, token = _signed_in(app, operator)
    client.post("/company/choose", data={"csrf_token": token, "tenant_id": str(tenant_id)})
    ids = {**two_companies["ids_b"], **own}
    wrong, walked = [], 0
    for call in calls(app, ids):
        if not {model_for(arg) for arg in call.rule.arguments} & set(own):
            continue
        walked += 1
        status = _request(client, call.method, call.url, token).status_code
        if status not in (403, 404):
            wrong.append(f"{call.method} {call.url} -> {status}")
    assert walked >= 10 and wrong == []
    assert client.get(f"/media/slots/{welcome_id}").status_code == 200
