"""The site's services on both databases: user edits, company settings, IVR and queue edits,
call-log reading (scoping, masking, reveal, export, purge)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pbx.errors import NotFound, PermissionDenied, ValidationError
from pbx.services.accounts import sessions as accounts_sessions
from pbx.services.calllog import export as exports
from pbx.services.calllog import query as calls
from pbx.services.calllog import reads
from pbx.services.calllog.entries import write_entries
from pbx.services.common.actor import SYSTEM, Actor
from pbx.services.people.users import update_user
from pbx.services.routing import forwarding, ivr, queues
from pbx.services.routing.targets import Target
from pbx.services.tenants import settings as tenant_settings
from storage.models import AuditEvent, CallLogEntry, PhoneNumber, Tenant, User
from tests.builders import make_tenant, make_user


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id, "192.0.2.1")


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def company(session: Session) -> tuple[Tenant, User, User]:
    tenant = make_tenant(session)
    admin = make_user(session, tenant, role="company_admin", extension="100")
    user = make_user(session, tenant, extension="101")
    return tenant, admin, user


# --- users -----------------------------------------------------------------------------------


def test_update_user_changes_fields_and_audits_old_and_new(session, company) -> None:
    tenant, admin, user = company
    update_user(
        session, actor_of(admin), user, name="Ny Namn", extension="150", mobile="", role="user"
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert user.extension == "150" and user.name == "Ny Namn" and user.mobile is None
    assert event.old["extension"] == "101" and event.new["extension"] == "150"


def test_new_extension_carries_colleagues_forwarding(session, company) -> None:
    tenant, admin, user = company
    forwarding.set_forwarding(session, SYSTEM, admin, kind="busy", destination="101")
    update_user(
        session, actor_of(admin), user, name=user.name, extension="160", mobile="", role="user"
    )
    assert forwarding.find_rule(session, admin.id, "busy").destination == "160"


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("extension", {"extension": "100"}),  # the admin's
        ("extension", {"extension": "333"}),
        ("extension", {"extension": ""}),
        ("mobile", {"mobile": "07012"}),
        ("role", {"role": "operator"}),
        ("name", {"name": " "}),
    ],
)
def test_update_user_refuses_bad_input(session, company, field, values) -> None:
    tenant, admin, user = company
    form = {"name": user.name, "extension": "101", "mobile": "", "role": "user", **values}
    with pytest.raises(ValidationError) as err:
        update_user(session, actor_of(admin), user, **form)
    assert err.value.field == field
    assert user.extension == "101" or field != "extension"


def test_last_admin_cannot_be_demoted(session, company) -> None:
    tenant, admin, _ = company
    with pytest.raises(ValidationError) as err:
        update_user(
            session,
            actor_of(admin),
            admin,
            name=admin.name,
            extension="100",
            mobile="",
            role="user",
        )
    assert err.value.code == "last_admin"


def test_users_and_other_companies_cannot_edit(session, company) -> None:
    tenant, admin, user = company
    other_admin = make_user(session, make_tenant(session), role="company_admin")
    for actor in (actor_of(user), actor_of(other_admin)):
        with pytest.raises(PermissionDenied):
            update_user(session, actor, user, name="X", extension="101", mobile="", role="user")


# --- company settings ------------------------------------------------------------------------


def test_allowed_countries_are_validated_and_audited(session, company) -> None:
    tenant, admin, _ = company
    codes = tenant_settings.region_codes("no, fi")
    assert codes == ["FI", "NO"]
    assert tenant_settings.added_countries(tenant, codes) == ["FI", "NO"]
    tenant_settings.set_allowed_countries(session, actor_of(admin), tenant, codes)
    assert tenant.allowed_countries == ["FI", "NO"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action.like("tenant.allowed%")))
    assert event.old == {"allowed_countries": []} and event.new["added"] == ["FI", "NO"]
    with pytest.raises(ValidationError):
        tenant_settings.region_codes("XX")
    with pytest.raises(ValidationError):
        tenant_settings.set_allowed_countries(session, actor_of(admin), tenant, ["SE"])


def test_retention_is_bounded_and_admin_only(session, company) -> None:
    tenant, admin, user = company
    tenant_settings.set_retention(session, actor_of(admin), tenant, 30)
    assert tenant.calllog_retention_days == 30
    with pytest.raises(ValidationError):
        tenant_settings.set_retention(session, actor_of(admin), tenant, 0)
    with pytest.raises(PermissionDenied):
        tenant_settings.set_retention(session, actor_of(user), tenant, 10)


# --- IVR and queues --------------------------------------------------------------------------


def test_change_option_repoints_a_key_and_audits(session, company) -> None:
    tenant, admin, user = company
    menu = ivr.create_menu(session, SYSTEM, tenant, name="Huvudmeny", prompt_slot_id=None)
    ivr.set_option(session, SYSTEM, tenant, menu, "1", Target("user", user_id=user.id))
    ivr.change_option(
        session, actor_of(admin), tenant, menu, "1", Target("user", user_id=admin.id)
    )
    assert ivr.find_option(session, menu.id, "1").target_user_id == admin.id
    assert actions(session)[-1] == "ivr.option.change"


def test_change_option_refuses_premium_and_foreign_targets(session, company) -> None:
    tenant, admin, _ = company
    menu = ivr.create_menu(session, SYSTEM, tenant, name="Huvudmeny", prompt_slot_id=None)
    with pytest.raises(ValidationError) as err:
        ivr.change_option(
            session, actor_of(admin), tenant, menu, "2", Target("external", external="+46900123456")
        )
    assert err.value.code == "premium_rate"
    stranger = make_user(session, make_tenant(session))
    with pytest.raises(ValidationError):
        ivr.change_option(
            session, actor_of(admin), tenant, menu, "2", Target("user", user_id=stranger.id)
        )
    assert ivr.options_of(session, menu.id) == []


def test_update_menu_validates_like_creation(session, company) -> None:
    tenant, admin, _ = company
    menu = ivr.create_menu(session, SYSTEM, tenant, name="Huvudmeny", prompt_slot_id=None)
    ivr.update_menu(
        session,
        actor_of(admin),
        tenant,
        menu,
        name="Meny",
        prompt_slot_id=None,
        invalid_slot_id=None,
        timeout_seconds=12,
        max_retries=2,
    )
    assert (menu.name, menu.timeout_seconds) == ("Meny", 12)
    with pytest.raises(ValidationError) as err:
        ivr.update_menu(
            session,
            actor_of(admin),
            tenant,
            menu,
            name="Meny",
            prompt_slot_id=None,
            invalid_slot_id=None,
            timeout_seconds=1,
            max_retries=2,
        )
    assert err.value.field == "timeout_seconds"


def test_update_queue_members_and_overflow(session, company) -> None:
    tenant, admin, user = company
    queue = queues.create_queue(
        session, SYSTEM, tenant, name="Kö", message_slot_id=None, members=[user.id]
    )
    queues.update_queue(
        session,
        actor_of(admin),
        tenant,
        queue,
        name="Sälj",
        message_slot_id=None,
        members=[admin.id, user.id],
        max_wait_seconds=60,
        overflow=Target("voicemail", user_id=admin.id),
    )
    assert [m.user_id for m in queues.members_of(session, queue.id)] == [admin.id, user.id]
    assert queue.overflow_kind == "voicemail" and actions(session)[-1] == "queue.update"
    with pytest.raises(ValidationError) as err:
        queues.update_queue(
            session,
            actor_of(admin),
            tenant,
            queue,
            name="Sälj",
            message_slot_id=None,
            members=[],
            max_wait_seconds=5,
            overflow=Target("hangup"),
        )
    assert err.value.field == "max_wait_seconds"


# --- call log --------------------------------------------------------------------------------

T0 = datetime(2026, 7, 3, 9, 0, tzinfo=UTC)


def add_calls(session: Session, tenant: Tenant, user: User, n: int, start: datetime = T0) -> None:
    rows = [
        {
            "call_id": f"c{tenant.id}-{i}",
            "leg": 0,
            "tenant_id": tenant.id,
            "user_id": user.id,
            "caller": f"+4670{i:07d}",
            "callee": "+46852001000",
            "direction": "inbound",
            "started_at": start - timedelta(minutes=i),
            "answered_at": start - timedelta(minutes=i) + timedelta(seconds=5),
            "ended_at": start - timedelta(minutes=i) + timedelta(seconds=65),
            "disposition": "answered" if i % 2 else "busy",
        }
        for i in range(n)
    ]
    write_entries(session, rows)
    session.flush()


def test_mask_hides_the_middle_of_outside_numbers() -> None:
    assert calls.mask("+46701234567") == "+46•••••••67"
    assert calls.mask("101") == "101"
    assert calls.mask(None) == ""


def test_list_calls_is_scoped_masked_paged_and_audited(session, company) -> None:
    tenant, admin, user = company
    add_calls(session, tenant, user, 60)
    add_calls(session, tenant, admin, 3)
    add_calls(session, make_tenant(session), admin, 5)
    page = calls.list_calls(session, actor_of(admin), tenant, calls.CallFilter())
    detail = reads.view_detail(calls.CallFilter(), len(page.rows), "")
    _, browser = accounts_sessions.start(session, admin, "192.0.2.10", "test")
    assert not reads.is_repeat_view(browser, actor_of(admin), tenant, detail)
    reads.record_view(session, actor_of(admin), tenant, detail, browser)
    session.refresh(browser)
    assert len(page.rows) == 50 and page.next_cursor
    assert all("•" in row.caller for row in page.rows)
    assert {row.duration_s for row in page.rows} == {60} and page.rows[0].duration_text == "1:00"
    rest = calls.list_calls(session, actor_of(admin), tenant, calls.CallFilter(), page.next_cursor)
    assert len(rest.rows) == 13 and not rest.next_cursor
    assert not {r.id for r in page.rows} & {r.id for r in rest.rows}
    mine = calls.list_calls(session, actor_of(user), tenant, calls.CallFilter(), limit=100)
    assert len(mine.rows) == 60
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "calllog.view"))
    assert event.new == {"rows": 50, "page": "first"} and event.tenant_id == tenant.id
    assert reads.is_repeat_view(browser, actor_of(admin), tenant, detail)
    later = browser.calllog_read_at + timedelta(seconds=61)
    assert not reads.is_repeat_view(browser, actor_of(admin), tenant, detail, now=later)
    other_ip = Actor(admin.id, admin.email, admin.role, tenant.id, "198.51.100.7")
    assert not reads.is_repeat_view(browser, other_ip, tenant, detail)
    next_page = reads.view_detail(calls.CallFilter(), 13, page.next_cursor)
    assert not reads.is_repeat_view(browser, actor_of(admin), tenant, next_page)
    _, other_browser = accounts_sessions.start(session, admin, "192.0.2.10", "test")
    assert not reads.is_repeat_view(other_browser, actor_of(admin), tenant, detail)


def test_list_calls_filters(session, company) -> None:
    tenant, admin, user = company
    add_calls(session, tenant, user, 10)
    by_number = calls.make_filter(number="+46 70 000 00 03")
    assert [r.id for r in calls.list_calls(session, actor_of(admin), tenant, by_number).rows]
    assert len(calls.list_calls(session, actor_of(admin), tenant, by_number).rows) == 1
    busy = calls.make_filter(disposition="busy")
    assert len(calls.list_calls(session, actor_of(admin), tenant, busy).rows) == 5
    later = calls.make_filter(date_from="2026-07-04")
    assert calls.list_calls(session, actor_of(admin), tenant, later).rows == []
    for bad in ({"date_from": "3 juli"}, {"number": "070-123"}, {"disposition": "x"}):
        with pytest.raises(ValidationError):
            calls.make_filter(**bad)
    with pytest.raises(ValidationError) as err:
        calls.make_filter(date_from="2026-07-04", date_to="2026-07-01")
    assert err.value.field == "date_to"


def test_list_calls_shows_only_the_companys_own_numbers_in_full(session, company) -> None:
    tenant, admin, user = company
    other = make_tenant(session)
    own, theirs = "+46852001000", "+46852009999"
    for owner, e164 in ((tenant, own), (other, theirs)):
        session.add(PhoneNumber(tenant_id=owner.id, e164=e164, target_kind="user"))
    add_calls(session, tenant, user, 2)
    session.execute(
        update(CallLogEntry)
        .where(CallLogEntry.tenant_id == tenant.id)
        .values(caller=theirs, forwarded_to="+46701234567")
    )
    rows = calls.list_calls(session, actor_of(admin), tenant, calls.CallFilter()).rows
    assert {(r.caller, r.callee, r.forwarded_to) for r in rows} == {
        ("+46•••••••99", own, "+46•••••••67")  # another company's number is a caller's here
    }


def test_list_calls_pages_through_every_filter_at_once(session, company) -> None:
    tenant, admin, user = company
    add_calls(session, tenant, user, 40)
    add_calls(session, tenant, admin, 40, start=T0 - timedelta(days=1))
    flt = calls.make_filter(date_from="2026-07-03", date_to="2026-07-03", disposition="busy")
    first = calls.list_calls(session, actor_of(user), tenant, flt, limit=15)
    rest = calls.list_calls(session, actor_of(user), tenant, flt, first.next_cursor, limit=15)
    seen = [r.id for r in first.rows + rest.rows]
    expected = session.scalars(
        select(CallLogEntry.id)
        .where(CallLogEntry.user_id == user.id, CallLogEntry.disposition == "busy")
        .order_by(CallLogEntry.started_at.desc())
    ).all()
    assert seen == expected and len(seen) == 20 and not rest.next_cursor
    by_number = calls.make_filter(number="+46700000004", date_to="2026-07-02")
    older = calls.list_calls(session, actor_of(admin), tenant, by_number).rows
    assert [r.started_at for r in older] == [T0 - timedelta(days=1, minutes=4)]


def test_reveal_shows_full_numbers_and_is_audited(session, company) -> None:
    tenant, admin, user = company
    add_calls(session, tenant, user, 2)
    entry = session.scalar(select(CallLogEntry).where(CallLogEntry.tenant_id == tenant.id))
    row = calls.reveal_call(session, actor_of(admin), tenant, str(entry.id))
    assert row.caller == entry.caller and not row.masked
    assert actions(session)[-1] == "calllog.reveal"
    other = make_tenant(session)
    other_admin = make_user(session, other, role="company_admin")
    with pytest.raises(NotFound):
        calls.reveal_call(session, actor_of(other_admin), other, entry.id)
    colleague = make_user(session, tenant)
    with pytest.raises(NotFound):
        calls.reveal_call(session, actor_of(colleague), tenant, entry.id)


def test_export_is_full_csv_and_audited(session, company) -> None:
    tenant, admin, user = company
    add_calls(session, tenant, user, 4)
    text = exports.export_csv(session, actor_of(admin), tenant, calls.CallFilter())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4 and rows[0]["caller"].startswith("+4670")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "calllog.export"))
    assert event.new["rows"] == 4
    busy = calls.make_filter(disposition="busy", date_from="2026-07-03", date_to="2026-07-03")
    text = exports.export_csv(session, actor_of(admin), tenant, busy)
    assert [row["disposition"] for row in csv.DictReader(io.StringIO(text))] == ["busy"] * 2


def test_export_neutralises_formula_cells(session, company) -> None:
    tenant, admin, user = company
    write_entries(
        session,
        [
            {
                "call_id": "x",
                "leg": 0,
                "tenant_id": tenant.id,
                "user_id": user.id,
                "caller": "=HYPERLINK(1)",
                "callee": "+46852001000",
                "direction": "inbound",
                "started_at": T0,
                "ended_at": T0,
                "disposition": "failed",
            }
        ],
    )
    text = exports.export_csv(session, actor_of(admin), tenant, calls.CallFilter())
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["caller"] == "'=HYPERLINK(1)" and row["callee"] == "+46852001000"


def test_purge_removes_only_expired_entries_per_company(session, company) -> None:
    tenant, admin, user = company
    other = make_tenant(session, retention_days=365)
    tenant_settings.set_retention(session, SYSTEM, tenant, 30)
    add_calls(session, tenant, user, 3, start=T0)
    add_calls(session, other, admin, 3, start=T0)
    now = T0 + timedelta(days=31)
    with pytest.raises(PermissionDenied):
        exports.purge_expired(session, actor_of(admin), now, [tenant])
    dry = exports.purge_expired(session, SYSTEM, now, [tenant, other], dry_run=True)
    assert [r.deleted for r in dry] == [3, 0]
    assert session.scalar(select(func.count()).select_from(CallLogEntry)) == 6
    exports.purge_expired(session, SYSTEM, now, [tenant, other])
    left = session.scalars(select(CallLogEntry.tenant_id)).all()
    assert set(left) == {other.id} and actions(session)[-1] == "calllog.purge"
