"""Spela upp incidenten (issue 16 items 2–3): only in demo mode; the backup fault deletes the
chosen companies' media (the red crosses), the recovery page restores the missing media from
the newest verified backup and keeps counting it; the takeover leaves alerts for the scan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from admin_web.incident_demos.breach_context import ATTACKER_IP, FRAUD_NUMBER, VICTIMS
from pbx.services.routing import forwarding
from storage.models import AuditEvent, CallLogEntry, FraudAlert, User
from tests.web.accounts import demo_site, make_account
from tests.web.conftest import AuthActions, csrf_token


def operator_client(app: Flask) -> FlaskClient:
    with app.extensions["pbx"].unit_of_work() as s:
        user, password, secret = make_account(s, None, role="operator")
        email = user.email
    client = app.test_client()
    AuthActions(app, client).login(email, password, secret)
    return client


def post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/account/sessions")})


@pytest.fixture
def demo_app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    with demo_site(db_url, tmp_path / "data") as application:
        yield application


def test_playing_an_incident_is_a_404_outside_demo_mode(app: Flask) -> None:
    client = operator_client(app)
    assert client.get("/operator/demo/").status_code == 404
    assert post(client, "/operator/demo/breach", {}).status_code == 404
    media = post(client, "/operator/demo/media-loss", {"tenants": ["bergstrom-bygg"]})
    assert media.status_code == 404
    assert "Spela upp incidenten" not in client.get("/operator/").text


def test_the_backup_fault_is_played_restored_and_still_counted(demo_app: Flask) -> None:
    client = operator_client(demo_app)
    assert "Spela upp incidenten" in client.get("/operator/").text
    played = post(client, "/operator/demo/media-loss", {"tenants": ["bergstrom-bygg"]})
    assert played.status_code == 302 and "recovery" in played.headers["Location"]
    page = client.get("/operator/recovery?tenant=bergstrom-bygg").text
    assert "Backupfelet är uppspelat" in page and "status-missing" in page
    other = client.get("/operator/recovery?tenant=kafe-lonnen").text
    assert "status-missing" not in other  # only the chosen company
    done = post(client, "/operator/recovery/restore", {"tenant": "bergstrom-bygg"})
    assert done.status_code == 302
    after = client.get("/operator/recovery?tenant=bergstrom-bygg").text
    assert "(verifierad" in after and "från backup" in after, re.findall(r"flash[^<]*<", after)
    total = after.split("<tr>")[-1]  # the total row: lost, restored, ..., still missing
    cells = [c.split("<")[0] for c in total.split("<td")[1:]]
    lost, restored = int(cells[1].lstrip(">")), int(cells[2].lstrip(">"))
    assert lost > 0 and restored > 0 and restored <= lost
    with demo_app.extensions["pbx"].unit_of_work() as s:
        recorded = select(func.count()).where(AuditEvent.action == "media.loss_recorded")
        assert s.scalar(recorded.select_from(AuditEvent)) == 1


def test_the_takeover_is_played_and_the_scan_finds_it(demo_app: Flask) -> None:
    client = operator_client(demo_app)
    played = post(client, "/operator/demo/breach", {})
    assert played.status_code == 302
    console = client.get("/operator/").text
    assert "203.0.113.66" in console and "Kör bedrägerikontrollen" in console
    assert post(client, "/operator/scan", {}).status_code == 302
    with demo_app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(FraudAlert)) > 0
    changes = client.get("/operator/forwarding?ip=203.0.113.66").text
    assert "erik.lindqvist@bergstrom-bygg.example" in changes


def test_the_played_takeover_is_contained_by_the_scan(demo_app: Flask) -> None:
    """The attacker's forwarding change comes before the fraud calls it causes, so the scan
    ties the calls to the change and contains the account, whatever the clock's minute."""
    client = operator_client(demo_app)
    post(client, "/operator/demo/breach", {})
    post(client, "/operator/scan", {})
    with demo_app.extensions["pbx"].unit_of_work() as s:
        erik = s.scalar(select(User).where(User.email == VICTIMS[0]))
        assert erik is not None
        changed = s.scalar(
            select(func.min(AuditEvent.occurred_at)).where(
                AuditEvent.action == "forwarding.set", AuditEvent.ip == ATTACKER_IP
            )
        )
        first_call = s.scalar(
            select(func.min(CallLogEntry.started_at)).where(CallLogEntry.callee == FRAUD_NUMBER)
        )
        assert changed is not None and first_call is not None and changed < first_call
        alerts = s.scalars(select(FraudAlert).where(FraudAlert.user_id == erik.id)).all()
        assert "forwarding_change_traffic" in {a.rule for a in alerts}
        assert any(a.status == "contained" for a in alerts)
        assert forwarding.find_rule(s, erik.id, "unconditional") is None


def test_pbx_demo_prints_where_each_walk_through_starts(capsys: pytest.CaptureFixture[str]) -> None:
    from admin_web.cli.demo import _print_walkthroughs

    _print_walkthroughs("http://127.0.0.1:8000/")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/operator/demo/" in out
    assert "operator/recovery" in out and "operator/forwarding" in out
