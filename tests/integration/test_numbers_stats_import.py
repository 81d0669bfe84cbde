"""Issue 17 items 5–7 on SQLite and PostgreSQL: the operator adds and removes numbers (never
the only way into a menu in use), where every number leads; call statistics per company and
period from calls run through the engine; user import from CSV, all rows or none."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.config import Settings
from pbx.errors import PermissionDenied, ValidationError
from pbx.services.accounts.core import AccountsConfig
from pbx.services.calllog import stats
from pbx.services.calls import simulated as calls
from pbx.services.calls.simulated import CallRequest
from pbx.services.common.actor import Actor
from pbx.services.people import user_import
from pbx.services.routing import number_admin
from pbx.services.routing.targets import Target
from storage.blobs import FileBlobStore
from storage.models import IvrMenu, OutboxMessage, PhoneNumber, Queue, Tenant, User
from tests.builders import make_tenant, make_user
from tests.integration.switchboard_world import CALLER, ERIK_DIRECT, MAIN, demo_company
from tests.library_media import speech_wav


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.email, user.role, user.tenant_id)


@pytest.fixture
def company(session: Session, file_blobs: FileBlobStore) -> Tenant:
    return demo_company(session, file_blobs)


def main_menu(session: Session, tenant: Tenant) -> IvrMenu:
    return session.scalars(
        select(IvrMenu).where(IvrMenu.tenant_id == tenant.id, IvrMenu.name == "Huvudmeny")
    ).one()


def test_operator_adds_and_removes_numbers_with_e164_checks(
    session: Session, company: Tenant
) -> None:
    operator = actor_of(make_user(session, None))
    admin = session.scalars(
        select(User).where(User.tenant_id == company.id, User.role == "company_admin")
    ).first()
    assert admin is not None
    to_menu = Target("ivr", ivr_id=main_menu(session, company).id)
    with pytest.raises(PermissionDenied):
        number_admin.assign_number(session, actor_of(admin), company, "+46852001099", to_menu)
    # ("08-520 010" is a number now: the Swedish national form is read as +468520010)
    for bad in ("08-520", "+4685200109999999", "hello"):
        with pytest.raises(ValidationError):
            number_admin.assign_number(session, operator, company, bad, to_menu)
    added = number_admin.assign_number(session, operator, company, "+46 8 520 010 99", to_menu)
    assert added.e164 == "+46852001099"
    number_admin.remove_number(session, operator, added)  # the main number still leads there
    assert session.get(PhoneNumber, added.id) is None


def test_the_only_way_into_a_menu_is_not_removed_and_says_what(
    session: Session, company: Tenant
) -> None:
    operator = actor_of(make_user(session, None))
    main = session.scalars(select(PhoneNumber).where(PhoneNumber.e164 == MAIN)).one()
    with pytest.raises(number_admin.NumberInUse) as refused:
        number_admin.remove_number(session, operator, main)
    kinds = dict(refused.value.cut_off)
    assert refused.value.cut_off[0] == ("ivr", "Huvudmeny")
    assert "queue" in kinds  # the sales queue behind key 1 goes with it
    assert session.get(PhoneNumber, main.id) is not None
    direct = session.scalars(select(PhoneNumber).where(PhoneNumber.e164 == ERIK_DIRECT)).one()
    number_admin.remove_number(session, operator, direct)  # a user's direct line: nothing cut


def test_where_every_number_leads(session: Session, company: Tenant) -> None:
    main = session.scalars(select(PhoneNumber).where(PhoneNumber.e164 == MAIN)).one()
    leads = number_admin.leads_of(session, main)
    assert (leads[0].depth, leads[0].kind, leads[0].name) == (0, "ivr", "Huvudmeny")
    keys = {lead.via: lead for lead in leads if lead.depth == 1}
    assert keys["1"].kind == "queue" and keys["2"].name == "Kundtjänst"
    assert any(lead.via == "overflow" for lead in leads)


def test_statistics_per_number_queue_and_hour(
    session: Session, file_blobs: FileBlobStore, company: Tenant
) -> None:
    busy = frozenset({"102", "103", "104"})
    day = datetime(2025, 3, 4, 9, 15, tzinfo=UTC)  # 10:15 in Stockholm (winter time)
    for request in (
        CallRequest(CALLER, MAIN, dtmf="1"),  # queue, answered
        CallRequest(CALLER, MAIN, dtmf="1", busy=busy, say=speech_wav(1.0)),  # → voicemail
        CallRequest(CALLER, ERIK_DIRECT, no_answer=frozenset({"102"})),  # forwarded to 103
    ):
        calls.run_call(session, file_blobs, company.id, request, started_at=day)
    calls.run_call(session, file_blobs, company.id, CallRequest(CALLER, MAIN, dtmf="1"),
                   started_at=datetime(2025, 3, 6, 12, tzinfo=UTC))  # fmt: skip
    found = stats.call_stats(session, company.id, date(2025, 3, 4), date(2025, 3, 4))
    assert found.total.total == 3
    assert found.by_number[MAIN]["answered"] == 1 and found.by_number[MAIN]["voicemail"] == 1
    assert found.by_number[ERIK_DIRECT]["forwarded"] == 1
    (queue,) = found.queues
    named = session.get(Queue, queue.queue_id)
    assert named is not None and named.tenant_id == company.id and queue.name == named.name
    assert (queue.calls, queue.answered) == (2, 1) and queue.longest_wait > 0
    assert found.hours[10] == 3 and found.busiest_hour == 10
    whole = stats.call_stats(session, company.id, date(2025, 3, 1), date(2025, 3, 31))
    assert whole.total.total == 4 and whole.hours[13] == 1
    rows = stats.csv_rows(found)  # stored names for scripts unless the reader's words are given
    assert rows[0][:3] == ["section", "name", "calls"] and ["total", "", "3"] == rows[1][:3]
    words = stats.CsvWords(tuple(h.title() for h in stats.CSV_COLUMNS), {"total": "Alla"})
    worded = stats.csv_rows(found, words)
    assert worded[0][:3] == ["Section", "Name", "Calls"] and worded[1][:3] == ["Alla", "", "3"]
    assert worded[1:] == [["Alla", *rows[1][1:]], *rows[2:]]  # sections not given: stored
    with pytest.raises(ValueError):
        stats.csv_rows(found, stats.CsvWords(("section",)))
    named.name = '=HYPERLINK("https://evil.invalid")'  # a queue named like a formula
    session.flush()
    quoted = stats.csv_rows(
        stats.call_stats(session, company.id, date(2025, 3, 4), date(2025, 3, 4))
    )
    assert ["queue", "'" + named.name] in [r[:2] for r in quoted]  # not run when opened
    other = make_tenant(session)
    assert stats.call_stats(session, other.id, date(2025, 3, 1), date(2025, 3, 31)).total.total == 0
    with pytest.raises(ValidationError):
        stats.call_stats(session, company.id, date(2025, 3, 5), date(2025, 3, 1))


def accounts_config() -> AccountsConfig:
    return AccountsConfig.from_settings(Settings(secret_key="x" * 40))


CSV_OK = (
    "namn;e-post;anknytning;mobil;roll\n"
    "Karin Ek;karin@ek.example;301;+46701230001;användare\n"
    "Lars Ek;lars@ek.example;302;;admin\n"
).encode()


def test_import_previews_then_creates_all_with_setup_links(session: Session) -> None:
    tenant = make_tenant(session)
    admin = make_user(session, tenant, role="company_admin")
    checked = user_import.preview(session, actor_of(admin), tenant, CSV_OK)
    assert checked.ok and [r.line for r in checked.rows] == [2, 3]
    assert session.scalar(select(func.count()).select_from(User)) == 1  # nothing written
    done = user_import.import_users(session, accounts_config(), actor_of(admin), tenant, CSV_OK)
    assert [d.user.email for d in done] == ["karin@ek.example", "lars@ek.example"]
    assert done[1].user.role == "company_admin" and "/account/password/" in done[0].link
    links = select(OutboxMessage).where(OutboxMessage.kind == "setup_link")
    assert len(list(session.scalars(links))) == 2


def test_import_with_any_error_writes_nothing(session: Session) -> None:
    tenant = make_tenant(session)
    admin = make_user(session, tenant, role="company_admin", extension="300")
    data = (
        "name,email,extension,mobile,role\n"
        "Karin Ek,karin@ek.example,301,+46701230001,user\n"
        f"Admin Again,{admin.email},300,+46900123456,boss\n"
        "Karin Two,karin@ek.example,301,,\n"
        ",not-an-email,07,,\n"
    ).encode()
    checked = user_import.preview(session, actor_of(admin), tenant, data)
    assert not checked.ok
    errors = {r.line: {e.field for e in r.errors if isinstance(e, ValidationError)}
              for r in checked.rows}  # fmt: skip
    assert errors[2] == set()
    assert errors[3] == {"email", "extension", "mobile", "role"}
    assert errors[4] == {"email", "extension"}  # repeats line 2
    assert errors[5] == {"name", "email", "extension"}
    with pytest.raises(user_import.ImportRefused):
        user_import.import_users(session, accounts_config(), actor_of(admin), tenant, data)
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_import_file_problems(session: Session) -> None:
    tenant = make_tenant(session)
    admin = actor_of(make_user(session, tenant, role="company_admin"))
    for data, code in ((b"", "file_empty"), (b"foo;bar\n1;2\n", "missing_columns"),
                       (b"x" * (user_import.MAX_BYTES + 1), "file_too_large")):  # fmt: skip
        checked = user_import.preview(session, admin, tenant, data)
        assert [p.code for p in checked.problems] == [code]
    latin = "namn;e-post\nÅsa Öberg;asa@ek.example\n".encode("cp1252")
    assert user_import.preview(session, admin, tenant, latin).rows[0].values["name"] == "Åsa Öberg"
    with pytest.raises(PermissionDenied):
        user_import.preview(session, actor_of(make_user(session, tenant)), tenant, CSV_OK)
