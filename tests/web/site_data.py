"""A small company for the site's tests, built through the services users use: an admin
(with TOTP), a user, a second admin, numbers, an IVR menu with keys, a queue, message slots
(one with audio, one without) and a few call-log rows; plus a second company for isolation.
"""

from __future__ import annotations

import io
import re
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services.calllog.entries import write_entries
from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots
from pbx.services.routing import ivr, numbers, queues
from pbx.services.routing.targets import Target
from storage.blobs import BlobStore
from storage.models import CallLogEntry, Tenant, User
from tests.builders import make_tenant
from tests.web.accounts import make_account

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
T0 = datetime(2026, 7, 3, 9, 0, tzinfo=UTC)


@dataclass
class Person:
    id: int
    email: str
    password: str
    totp: str | None


@dataclass
class Company:
    tenant_id: int
    admin: Person
    user: Person
    other_admin: Person  # a second admin of the same company
    number_id: int
    main_number: str
    menu_id: int
    queue_id: int
    slot_ok: int
    slot_missing: int
    call_ids: list[int]


def person(account: tuple[User, str, str | None]) -> Person:
    user, password, secret = account
    return Person(user.id, user.email, password, secret)


def build_company(session: Session, blobs: BlobStore, n: int = 1) -> Company:
    tenant = make_tenant(session, name=f"Webbolaget {n} AB", slug=f"webb-{n}")
    admin = person(make_account(session, tenant, "company_admin", extension=f"{n}00"))
    user = person(make_account(session, tenant, "user", extension=f"{n}01", totp=True))
    other = person(make_account(session, tenant, "company_admin", extension=f"{n}02"))
    ok = slots.create_slot(session, SYSTEM, tenant, kind="ivr", name="Huvudmeny")
    slots.add_version(session, blobs, SYSTEM, ok, wav(), source="demo", duration_ms=100)
    missing = slots.create_slot(session, SYSTEM, tenant, kind="welcome", name="Välkommen")
    queue = queues.create_queue(
        session, SYSTEM, tenant, name="Kön", message_slot_id=None, members=[user.id]
    )
    menu = ivr.create_menu(
        session, SYSTEM, tenant, name="Huvudmeny", prompt_slot_id=ok.id, timeout_seconds=5
    )
    ivr.set_option(session, SYSTEM, tenant, menu, "1", Target("user", user_id=user.id))
    ivr.set_option(session, SYSTEM, tenant, menu, "2", Target("queue", queue_id=queue.id))
    e164 = f"+4685200{n:04d}"
    number = numbers.add_number(
        session, SYSTEM, tenant, e164, Target("ivr", ivr_id=menu.id), welcome_slot_id=missing.id
    )
    return Company(
        tenant.id,
        admin,
        user,
        other,
        number.id,
        e164,
        menu.id,
        queue.id,
        ok.id,
        missing.id,
        _calls(session, tenant, user.id, e164),
    )


def _calls(session: Session, tenant: Tenant, user_id: int, number: str) -> list[int]:
    rows = [
        {
            "call_id": f"web-{tenant.id}-{i}",
            "leg": 0,
            "tenant_id": tenant.id,
            "user_id": user_id,
            "caller": f"+4670123450{i}",
            "callee": number,
            "direction": "inbound",
            "started_at": T0 - timedelta(hours=i),
            "answered_at": T0 - timedelta(hours=i) + timedelta(seconds=4),
            "ended_at": T0 - timedelta(hours=i) + timedelta(seconds=64),
            "disposition": "answered",
        }
        for i in range(3)
    ]
    write_entries(session, rows)
    session.flush()
    stmt = select(CallLogEntry.id).where(CallLogEntry.tenant_id == tenant.id)
    return list(session.scalars(stmt.order_by(CallLogEntry.id)))


def wav() -> bytes:
    """100 ms of 8 kHz mono 16-bit silence with a proper header."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, str], form_page: str | None = None):
    """POST like a browser: with the CSRF token of the page that shows the form."""
    token = csrf(client, form_page or path)
    return client.post(path, data={**data, "csrf_token": token})


def stale_reauth(client: FlaskClient) -> None:
    """As if the last password + code confirmation were long ago (logins count as one)."""
    with client.session_transaction() as state:
        state.pop("reauth_at", None)
