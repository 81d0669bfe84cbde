"""Every page a person can open, for tests that read what the pages say (issue 16).

`demo_people(app)` loads the demo companies and makes a company admin, a user and an operator
(administering the first company). `pages(app, client, ids)` GETs every route of the url map
that needs no token, with the walker's ids for object routes, and yields the HTML pages that
answered 200 — so a page added later is read too without anyone listing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fixtures.demo import load_demo
from pbx.incident.scan import contain_alert
from pbx.services.calllog.entries import write_entries
from pbx.services.calls import live as live_calls
from pbx.services.calls.live import PhoneEvent
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.library import messages as library
from storage.models import ForwardingRule, FraudAlert, Tenant, User
from tests.library_media import silent_wav, speech_wav
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions, csrf_token
from tests.web.route_walk import NOT_OBJECT_ARGS, VALUES, ids_owned_by, model_for, object_rules

COMPANY = "bergstrom-bygg"
# GET routes that are not pages to read (they sign out, or stream files).
SKIPPED = frozenset({"/logout", "/favicon.ico"})


@dataclass(frozen=True)
class Page:
    role: str
    url: str
    html: str


def demo_people(app: Flask) -> dict[str, Any]:
    """Accounts on the demo data: {"admin": (user, password, secret), "user": …,
    "operator": …, "tenant_id": …, "ids": {model: id}}."""
    runtime = app.extensions["pbx"]
    load_demo(runtime, calls_per_day=2)
    with runtime.unit_of_work() as s:
        tenant = tenant_by_slug(s, COMPANY)
        people: dict[str, Any] = {
            "admin": make_account(s, tenant, role="company_admin", extension="9911"),
            "user": _demo_user(s, tenant.id),
            "operator": make_account(s, None, role="operator"),
            "tenant_id": tenant.id,
        }
        _calls_in_every_state(s, runtime, tenant, people["admin"][0])
        _refused_leg_and_fraud_alert(s, tenant, people["user"][0])
        _contained_account(s, tenant, {people[role][0].id for role in ("admin", "user")})
        people["ids"] = _ids(s, app, tenant.id, people["user"][0].id)
    return people


def _calls_in_every_state(s: Session, runtime: Any, tenant: Tenant, admin: User) -> None:
    """Record by phone (declined, hung up while ringing, silent to the end) and a 333 call
    from the softphone (a key, then hung up): the call log's and softphone's end states."""
    admin.mobile = "+46701239911"
    me = Actor(admin.id, admin.email, admin.role, admin.tenant_id)
    blobs = runtime.blobs(s)
    slot = library.create_message(s, me, tenant, kind="welcome", name="Ny hälsning")

    def feed(call: Any, kind: str, digit: str = "", audio: bytes | None = None) -> Any:
        return live_calls.feed(s, blobs, me, call, PhoneEvent(kind, digit), audio=audio)

    def callback() -> Any:
        return live_calls.start_callback(s, blobs, me, admin, slot, admin.mobile or "")

    feed(callback(), "decline")
    feed(callback(), "hangup")
    silent = feed(callback(), "answer")
    while silent.status != "ended":
        silent = feed(silent, "dtmf", "#", audio=silent_wav())
    service = feed(live_calls.dial_service(s, blobs, me, admin), "dtmf", "4")
    feed(service, "hangup")
    # A message with two versions, the first restored (the audit log names versions).
    first = library.save_audio(s, blobs, me, slot, speech_wav(seed=1))
    library.save_audio(s, blobs, me, slot, speech_wav(seed=2))
    library.restore_version(s, blobs, me, slot, first.id)


def _refused_leg_and_fraud_alert(s: Session, tenant: Tenant, user: User) -> None:
    at = datetime.now(UTC) - timedelta(hours=1)
    leg = {"call_id": "walk-refused", "leg": 1, "tenant_id": tenant.id, "user_id": user.id,
           "caller": "+46812345678", "callee": "+4747123456", "direction": "forwarded",
           "started_at": at, "ended_at": at, "disposition": "refused",
           "refused_reason": "country_not_allowed"}  # fmt: skip
    write_entries(s, [leg])
    s.add(
        FraudAlert(
            rule="intl_legs_user_hour", tenant_id=tenant.id, user_id=user.id,
            window_start=at, window_end=at + timedelta(hours=1), value=12.0, threshold=10.0,
            unit="legs", details={"countries": ["NO"]}, dedupe_key=f"walk-{tenant.id}",
        )
    )  # fmt: skip
    s.flush()


def _contained_account(s: Session, tenant: Tenant, walkers: set[int]) -> None:
    """A demo user over a hard cap, contained (the console's suspension and its reason, the
    audit log's containment): one with outside forwarding, not one the walk signs in as."""
    outside = select(ForwardingRule.user_id).where(
        ForwardingRule.destination_kind == "external", ForwardingRule.active.is_(True)
    )
    user = s.scalars(
        select(User)
        .where(User.tenant_id == tenant.id, User.id.in_(outside), User.id.not_in(walkers))
        .order_by(User.id)
    ).first()
    assert user is not None, "the demo company has someone forwarding to an outside number"
    at = datetime.now(UTC) - timedelta(hours=2)
    alert = FraudAlert(
        rule="intl_legs_user_hour", hard_cap=True, tenant_id=tenant.id, user_id=user.id,
        window_start=at, window_end=at + timedelta(hours=1), value=20.0, threshold=15.0,
        unit="legs", details={}, dedupe_key=f"walk-contained-{tenant.id}", status="open",
    )  # fmt: skip
    s.add(alert)
    s.flush()
    contain_alert(s, None, SYSTEM, alert)


def _demo_user(s: Session, tenant_id: int) -> tuple[User, str, str | None]:
    # Signing in needs a known password: a user beside the demo's own.
    tenant = s.get(Tenant, tenant_id)
    return make_account(s, tenant, role="user", extension="9912", totp=True)


def _ids(s: Session, app: Flask, tenant_id: int, user_id: int) -> dict[type, int]:
    ids: dict[type, int] = {}
    needed = {model_for(arg) for rule in object_rules(app) for arg in rule.arguments} - {None}
    for model in needed:
        owned = [user_id] if model is User else ids_owned_by(s, model, tenant_id)
        if owned:
            ids[model] = owned[0]  # type: ignore[index]
    return ids


def sign_in(app: Flask, account: tuple, tenant_id: int | None = None) -> FlaskClient:
    client = app.test_client()
    auth = AuthActions(app, client)
    user, password, secret = account
    auth.login(user.email, password, secret)
    if tenant_id is not None:
        token = csrf_token(client, "/account/sessions")
        client.post("/company/choose", data={"csrf_token": token, "tenant_id": str(tenant_id)})
    return client


def set_language(client: FlaskClient, language: str) -> None:
    with client.session_transaction() as state:
        state["lang"] = language


def urls(app: Flask, ids: dict[type, int]) -> list[str]:
    found: list[str] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.arguments & NOT_OBJECT_ARGS:
            continue
        values: dict[str, Any] = {}
        for arg in rule.arguments:
            model = model_for(arg)
            if arg in VALUES:
                values[arg] = VALUES[arg]
            elif model in ids:
                values[arg] = ids[model]  # type: ignore[index]
        if len(values) != len(rule.arguments):
            continue
        built = rule.build(values, append_unknown=False)
        if built is not None and built[1] not in SKIPPED:
            found.append(built[1])
    return sorted(set(found))


def pages(app: Flask, client: FlaskClient, role: str, ids: dict[type, int]) -> Iterator[Page]:
    for url in urls(app, ids):
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            yield Page(role, url, response.get_data(as_text=True))


def all_pages(app: Flask, people: dict[str, Any], language: str = "sv") -> Iterator[Page]:
    """Every page, as the company admin, the user and the operator (administering the
    company), in `language`."""
    for role in ("admin", "user", "operator"):
        tenant = people["tenant_id"] if role == "operator" else None
        client = sign_in(app, people[role], tenant)
        set_language(client, language)
        yield from pages(app, client, role, people["ids"])
