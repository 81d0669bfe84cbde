"""SECURITY.md 23: logins (success and failure) and changes are audited with who, tenant,
IP and UTC time; company admins read their company's log, operators all of it; the chain
verifies, and breaks when an entry is altered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from pbx.services.audit.log import verify_chain
from storage.models import AuditEvent
from tests.builders import make_tenant
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions, csrf_token


def _accounts(uow):
    with uow() as s:
        a, b = make_tenant(s), make_tenant(s)
        return (
            make_account(s, a, role="company_admin"),
            make_account(s, b, role="company_admin"),
            make_account(s, None, role="operator"),
            make_account(s, a),
        )


def test_login_success_and_failure_are_audited_with_ip(client: FlaskClient, uow, auth) -> None:
    (admin, password, secret), *_ = _accounts(uow)
    token = csrf_token(client, "/login")
    client.post(
        "/login",
        data={"email": admin.email, "password": "fel fel fel fel", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    auth.login(admin.email, password, secret)
    with uow() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("login.%"))).all()
    failed, success = events[-2], events[-1]
    assert (failed.action, failed.ip, failed.actor_user_id) == (
        "login.failed",
        "203.0.113.9",
        admin.id,
    )
    assert (success.action, success.new) == ("login.success", {"via": "totp"})
    assert success.tenant_id == admin.tenant_id
    assert abs(success.occurred_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert success.occurred_at.tzinfo is not None
    page = client.get("/audit").get_data(as_text=True)  # the admin reads it in words
    assert "Fel lösenord" in page and "Misslyckade försök i rad" in page
    assert "wrong_password" not in page and "failures" not in page


def test_company_admin_reads_only_their_company(app: Flask, uow) -> None:
    (a_admin, apw, asec), (b_admin, bpw, bsec), (operator, opw, osec), _ = _accounts(uow)
    client = app.test_client()
    AuthActions(app, client).login(a_admin.email, apw, asec)
    page = client.get("/audit").get_data(as_text=True)
    assert a_admin.email in page and b_admin.email not in page
    op_client = app.test_client()
    AuthActions(app, op_client).login(operator.email, opw, osec)
    everything = op_client.get("/audit").get_data(as_text=True)
    assert a_admin.email in everything and b_admin.email in everything


def test_users_cannot_read_the_audit_log(app: Flask, uow) -> None:
    *_, (user, password, _) = _accounts(uow)
    client = app.test_client()
    AuthActions(app, client).login(user.email, password)
    assert client.get("/audit").status_code == 403


def test_chain_verifies_and_breaks_on_tampering(app: Flask, uow, auth: AuthActions) -> None:
    (admin, password, secret), *_ = _accounts(uow)
    auth.login(admin.email, password, secret)
    with uow() as s:
        assert verify_chain(s) == []
        last = s.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        s.execute(update(AuditEvent).where(AuditEvent.id == last.id).values(ip="10.0.0.1"))
    with uow() as s:
        assert [p.event_id for p in verify_chain(s)] == [last.id]
