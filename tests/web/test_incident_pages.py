"""The operator console and the incident pages (both databases): operators only on the
console; a company admin sees and decides only for their own company; CSRF on every form;
re-authentication before containment and exports; Swedish by default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pbx.services.backups.drill import CompanyDrill, DrillCertificate
from pbx.services.backups.drill_results import record_drill
from pbx.services.common.actor import SYSTEM
from pbx.services.routing import forwarding
from storage.models import FraudAlert, IncidentCompany
from tests.integration.incident_world import (
    ATTACKER_IP,
    Takeover,
    build_takeover,
    forwarded_legs,
    write_traffic,
)
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions, csrf_token
from tests.web.site_data import stale_reauth

OPERATOR_PAGES = (
    "/operator/",
    "/operator/contain",
    "/operator/forwarding",
    "/operator/affected-callers",
    "/operator/recovery",
    "/operator/drills",
)


@dataclass
class Login:
    email: str
    password: str
    totp: str | None


@dataclass
class Site:
    world: Takeover
    operator: Login
    admin_a: Login
    user_a: Login
    admin_b: Login


@pytest.fixture
def site(app: Flask) -> Site:
    with app.extensions["pbx"].unit_of_work() as s:
        world = build_takeover(s)
        # All within 20 ms of the change: "the last 24 hours" of the page's scan covers them.
        quick = timedelta(milliseconds=1)
        write_traffic(s, forwarded_legs(world, 20, start=world.changed_at, step=quick))
        other = s.get(type(world.tenant), world.bystander.tenant_id)
        accounts = [
            make_account(s, None, role="operator"),
            make_account(s, world.tenant, role="company_admin", extension="9901"),
            make_account(s, world.tenant, role="user", extension="9902"),
            make_account(s, other, role="company_admin", extension="9903"),
        ]
        logins = [Login(u.email, p, t) for u, p, t in accounts]
    return Site(world, *logins)


def sign_in(auth: AuthActions, who: Login, *, reauth: bool = False) -> FlaskClient:
    auth.login(who.email, who.password, who.totp)
    if reauth and who.totp:
        auth.reauth(who.password, who.totp)
    return auth.client


def post(client: FlaskClient, path: str, data: dict[str, object], page: str = "/account/sessions"):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def test_the_console_is_for_operators_only(app: Flask, auth: AuthActions, site: Site) -> None:
    anonymous = app.test_client()
    assert all(anonymous.get(p).status_code == 302 for p in OPERATOR_PAGES)
    for who in (site.admin_a, site.user_a):
        client = app.test_client()
        sign_in(AuthActions(app, client), who)
        assert [client.get(p).status_code for p in OPERATOR_PAGES] == [403] * len(OPERATOR_PAGES)
        assert post(client, "/operator/scan", {}).status_code == 403
    client = sign_in(auth, site.operator)
    pages = [client.get(p) for p in OPERATOR_PAGES]
    assert [page.status_code for page in pages] == [200] * len(OPERATOR_PAGES)
    # Incident data never lingers in a browser or proxy cache.
    assert {page.headers["Cache-Control"] for page in pages} == {"no-store"}
    assert "Operatörskonsol" in client.get("/operator/").get_data(as_text=True)


def test_scan_contains_and_the_console_shows_it(app: Flask, auth: AuthActions, site: Site) -> None:
    client = sign_in(auth, site.operator)
    assert client.post("/operator/scan", data={}).status_code == 400  # no CSRF token
    assert post(client, "/operator/scan", {}).status_code == 302
    page = client.get("/operator/?status=all").get_data(as_text=True)
    assert "spärrgräns" in page and site.world.victim.email in page
    assert "stoppad automatiskt över spärrgränsen" in page  # the scan's note, in words
    assert "contained automatically" not in page
    with app.extensions["pbx"].unit_of_work() as s:
        assert forwarding.find_rule(s, site.world.victim.id, "unconditional") is None
    lift = post(client, "/operator/blocks/lift", {"user_id": site.world.victim.id})
    assert lift.status_code == 302


def test_containing_by_hand_asks_for_reauthentication(
    app: Flask, auth: AuthActions, site: Site
) -> None:
    client = sign_in(auth, site.operator)
    post(client, "/operator/scan", {})
    with app.extensions["pbx"].unit_of_work() as s:
        alert = s.scalar(select(FraudAlert).where(FraudAlert.status == "open"))
        assert alert is not None
        alert_id = alert.id
    stale_reauth(client)  # signing in with a code counts as a fresh confirmation
    first = post(client, "/operator/alerts/contain", {"alert_id": alert_id})
    assert "/reauth" in first.headers["Location"]
    auth.reauth(site.operator.password, site.operator.totp or "")
    assert post(client, "/operator/alerts/contain", {"alert_id": alert_id}).status_code == 302
    assert "stoppad av operatören" in client.get("/operator/?status=contained").text
    dismissed = post(client, "/operator/alerts/dismiss", {"alert_id": alert_id, "note": "x"})
    assert dismissed.status_code == 302  # not open any more: a message, nothing changes


def test_forwarding_changes_listed_and_reverted(app: Flask, auth: AuthActions, site: Site) -> None:
    client = sign_in(auth, site.operator, reauth=True)
    page = client.get(f"/operator/forwarding?ip={ATTACKER_IP}").get_data(as_text=True)
    assert site.world.victim.email in page and ATTACKER_IP in page
    with app.extensions["pbx"].unit_of_work() as s:
        from pbx.incident.forwarding_changes import list_changes

        ids = [
            r.event_id
            for r in list_changes(
                s,
                site.world.changed_at - timedelta(minutes=5),
                site.world.changed_at + timedelta(hours=1),
                ip=ATTACKER_IP,
            )
        ]
    shown = f"/operator/forwarding?ip={ATTACKER_IP}"
    done = post(client, "/operator/forwarding/revert", {"event_id": ids, "ip": ATTACKER_IP}, shown)
    assert done.status_code == 302  # back to the same filtered list
    assert done.headers["Location"] == f"/operator/forwarding?ip={ATTACKER_IP}"
    assert f'type="hidden" name="ip" value="{ATTACKER_IP}"' in page  # carried by the form
    said = client.get(done.headers["Location"]).get_data(as_text=True)
    assert len(ids) == 2 and "2 regler återställda." in said and "orörd" not in said
    with app.extensions["pbx"].unit_of_work() as s:
        assert forwarding.find_rule(s, site.world.victim.id, "unconditional") is None


def test_affected_callers_csv_has_no_company(auth: AuthActions, site: Site) -> None:
    client = sign_in(auth, site.operator, reauth=True)
    day = site.world.day()
    form = {"tenants": [site.world.tenant.slug], "since": day, "until": day}
    response = post(client, "/operator/affected-callers", form, "/operator/affected-callers")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and text.count("\n") == 21
    assert site.world.tenant.name not in text and site.world.number not in text
    empty = post(client, "/operator/affected-callers", {"since": day}, "/operator/affected-callers")
    assert empty.status_code == 422


def test_incident_register_scoped_to_each_company(app: Flask, site: Site) -> None:
    operator = app.test_client()
    sign_in(AuthActions(app, operator), site.operator)
    made = post(
        operator,
        "/incidents/new",
        {
            "title": "Intrång",
            "discovered_at": "2026-07-07T09:00",
            "nature": "confidentiality",
            "tenants": [site.world.tenant.slug],
            "severity": "high",
            "subjects_informed": "no",
        },
        "/incidents/new",
    )
    assert made.status_code == 302
    incident_id = int(made.headers["Location"].rsplit("=", 1)[1])
    admin_b = app.test_client()
    sign_in(AuthActions(app, admin_b), site.admin_b)
    assert "Intrång" not in admin_b.get("/incidents/").get_data(as_text=True)
    assert admin_b.get(f"/incidents/show?id={incident_id}").status_code == 404
    assert post(admin_b, "/incidents/export", {"id": incident_id}).status_code == 404
    admin_a = app.test_client()
    sign_in(AuthActions(app, admin_a), site.admin_a)
    assert "Intrång" in admin_a.get("/incidents/").get_data(as_text=True)
    show = f"/incidents/show?id={incident_id}"
    short = post(
        admin_a,
        "/incidents/decide",
        {"id": incident_id, "decision": "no_report", "reasoning": "kort"},
        show,
    )
    assert short.status_code == 422
    reasoning = "Bara telefonnummer syntes; vi bedömer risken för de registrerade som låg."
    ok = post(
        admin_a,
        "/incidents/decide",
        {"id": incident_id, "decision": "no_report", "reasoning": reasoning},
        show,
    )
    assert ok.status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        part = s.scalar(select(IncidentCompany).where(IncidentCompany.incident_id == incident_id))
        assert part is not None and part.decision == "no_report"
    document = post(admin_a, "/incidents/export", {"id": incident_id}, show).get_data(as_text=True)
    assert reasoning in document
    assert (
        post(
            operator,
            "/incidents/decide",
            {"id": incident_id, "decision": "report", "reasoning": reasoning},
        ).status_code
        == 403
    )
    user_a = app.test_client()
    sign_in(AuthActions(app, user_a), site.user_a)
    assert user_a.get("/incidents/").status_code == 403


def test_call_back_list_for_admins_and_users(app: Flask, site: Site) -> None:
    admin = app.test_client()
    sign_in(AuthActions(app, admin), site.admin_a)
    assert "Återuppringning" in admin.get("/callbacks/").get_data(as_text=True)
    user = app.test_client()
    sign_in(AuthActions(app, user), site.user_a)
    assert user.get("/callbacks/").status_code == 200
    assert post(user, "/callbacks/export", {}).status_code == 403
    assert admin.post("/callbacks/export", data={}).status_code == 400  # CSRF


def test_operator_register_pages_render_and_record(
    app: Flask, auth: AuthActions, site: Site
) -> None:
    client = sign_in(auth, site.operator)
    assert client.get("/incidents/new").status_code == 200
    made = post(
        client,
        "/incidents/new",
        {
            "title": "Raderade meddelanden",
            "discovered_at": "2026-04-26T16:00",
            "nature": "availability",
            "tenants": [site.world.tenant.slug],
        },
        "/incidents/new",
    )
    incident_id = int(made.headers["Location"].rsplit("=", 1)[1])
    show = f"/incidents/show?id={incident_id}"
    assert "Rapport till PTS" in client.get(show).get_data(as_text=True)
    assert client.get(f"/incidents/edit?id={incident_id}").status_code == 200
    bad = post(client, "/incidents/pts", {"id": incident_id, "pts_reported_at": "igår"}, show)
    assert bad.status_code == 422
    assert (
        post(
            client,
            "/incidents/pts",
            {"id": incident_id, "pts_reported_at": "2026-04-27T10:00", "pts_reference": "P-7"},
            show,
        ).status_code
        == 302
    )
    assert post(client, "/incidents/baseline", {"id": incident_id}, show).status_code == 302
    edited = post(
        client,
        "/incidents/edit",
        {
            "id": incident_id,
            "title": "Raderade inspelningar",
            "discovered_at": "2026-04-26T16:00",
            "severity": "low",
        },
        f"/incidents/edit?id={incident_id}",
    )
    assert edited.status_code == 302
    page = client.get(show).get_data(as_text=True)
    assert "Raderade inspelningar" in page and "P-7" in page
    recovery = client.get(f"/operator/recovery?tenant={site.world.tenant.slug}")
    assert recovery.status_code == 200 and "Saknas fortfarande" in recovery.get_data(as_text=True)
    assert client.get("/incidents/show?id=999").status_code == 404


def test_drill_page_shows_each_companys_newest_drill(
    app: Flask, auth: AuthActions, site: Site
) -> None:
    """The operator sees per company whether the newest backup was proven restorable; a
    company with no drill yet is listed as such, not left out."""
    tenant, bystander_id = site.world.tenant, site.world.bystander.tenant_id
    older = DrillCertificate(
        "20260701T020000Z-aaaa", "2026-07-01T02:00:00+00:00", "sqlite",
        "2026-07-01T03:00:00+00:00", "2026-07-01T03:05:00+00:00", restorable=True,
        calls_checked=True,
        companies=[CompanyDrill(tenant.id, tenant.slug, tenant.name, True, 12, 0, 2, 5, 7, 7)],
    )  # fmt: skip
    newer = DrillCertificate(
        "20260708T020000Z-bbbb", "2026-07-08T02:00:00+00:00", "sqlite",
        "2026-07-08T03:00:00+00:00", "2026-07-08T03:05:00+00:00", restorable=False,
        calls_checked=True,
        companies=[CompanyDrill(
            tenant.id, tenant.slug, tenant.name, False, 12, 1, 2, 5, 7, 6,
            ["Välkommen: audio does not restore"],
        )],
    )  # fmt: skip
    with app.extensions["pbx"].unit_of_work() as s:
        record_drill(s, SYSTEM, older)
        record_drill(s, SYSTEM, newer)
        bystander = s.get(type(tenant), bystander_id)
    page = sign_in(auth, site.operator).get("/operator/drills").get_data(as_text=True)
    row = page.split(f'data-company="{tenant.slug}"')[1].split("</tr>")[0]
    assert 'data-result="failed"' in row and "20260708T020000Z-bbbb" in row
    assert "Inte återställningsbar" in row and "6 / 7" in row
    assert "Välkommen: audio does not restore" in row
    other = page.split(f'data-company="{bystander.slug}"')[1].split("</tr>")[0]
    assert 'data-result="none"' in other and "Aldrig övad" in other
