"""Issue 17 items 4–7 through the site (Flask test client, both databases): voicemail PIN and
settings, admin PIN reset, operators adding and removing numbers, the numbers table with
where each leads, call statistics with SVG charts and CSV, user import with a preview."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pbx.services.calllog.entries import write_entries
from storage.models import (
    AuditEvent,
    OutboxMessage,
    PhoneNumber,
    User,
    VoicemailBox,
)
from tests.web.accounts import make_account
from tests.web.conftest import AuthActions
from tests.web.site_data import Company, csrf, post

pytest_plugins = ["tests.web.site_fixtures"]


def box_of(app: Flask, user_id: int) -> VoicemailBox:
    with app.extensions["pbx"].unit_of_work() as s:
        return s.scalars(select(VoicemailBox).where(VoicemailBox.user_id == user_id)).one()


def test_user_sets_and_changes_the_pin(app: Flask, as_user: FlaskClient, company: Company) -> None:
    page = as_user.get("/my/voicemail/settings").text
    assert "Ny kod" in page and 'name="current_pin"' not in page  # Swedish; no PIN yet
    path = "/my/voicemail/pin"
    data = {"new_pin": "4711", "confirm_pin": "4711"}
    assert post(as_user, path, data, "/my/voicemail/settings").status_code == 302
    assert box_of(app, company.user.id).pin_hash
    wrong = post(as_user, path, {**data, "new_pin": "5822", "confirm_pin": "5822",
                                 "current_pin": "0000"}, "/my/voicemail/settings")  # fmt: skip
    assert wrong.status_code == 422 and "field-error" in wrong.text
    differ = post(as_user, path, {"new_pin": "5822", "confirm_pin": "5823",
                                  "current_pin": "4711"}, "/my/voicemail/settings")  # fmt: skip
    assert differ.status_code == 422
    weak = post(as_user, path, {"new_pin": "1111", "confirm_pin": "1111",
                                "current_pin": "4711"}, "/my/voicemail/settings")  # fmt: skip
    assert weak.status_code == 422


def test_user_chooses_greeting_only_and_email(
    app: Flask, as_user: FlaskClient, company: Company
) -> None:
    data = {"greeting_only": "1", "email_notify": "attach"}
    assert post(as_user, "/my/voicemail/settings", data).status_code == 302
    box = box_of(app, company.user.id)
    assert box.greeting_only and box.email_notify == "attach"
    page = as_user.get("/my/voicemail/settings").text
    assert 'value="attach" id="f-email-attach" checked' in page


def test_admin_resets_a_pin_and_rivals_get_404(
    app: Flask, as_admin: FlaskClient, company: Company, rival: Company
) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        box = s.scalars(select(VoicemailBox).where(VoicemailBox.user_id == company.user.id)).one()
        box.pin_hash = "x"
    page = as_admin.get(f"/users/{company.user.id}").text
    assert "Nollställ röstbrevlådans kod" in page
    path = f"/users/{company.user.id}/voicemail-pin/reset"
    assert post(as_admin, path, {}, f"/users/{company.user.id}").status_code == 302
    assert box_of(app, company.user.id).pin_hash is None
    rival_path = f"/users/{rival.user.id}/voicemail-pin/reset"
    assert post(as_admin, rival_path, {}, f"/users/{company.user.id}").status_code == 404


def test_users_cannot_reset_pins(as_user: FlaskClient, company: Company) -> None:
    path = f"/users/{company.admin.id}/voicemail-pin/reset"
    assert post(as_user, path, {}, "/my/voicemail/settings").status_code == 403


def operator_client(app: Flask, company: Company) -> FlaskClient:
    with app.extensions["pbx"].unit_of_work() as s:
        operator, password, secret = make_account(s, None, "operator")
        email = operator.email
    client = app.test_client()
    AuthActions(app, client).login(email, password, secret)
    post(client, "/company/choose", {"tenant_id": str(company.tenant_id)})
    return client


def test_numbers_table_shows_where_each_number_leads(as_admin: FlaskClient, company) -> None:
    page = as_admin.get("/numbers/").text
    assert "Huvudmeny" in page and "knapp 1" in page and "knapp 2" in page
    assert 'id="add-number"' not in page and "data-remove" not in page  # operator only


def test_operator_adds_and_removes_numbers(app: Flask, company: Company, rival) -> None:
    client = operator_client(app, company)
    assert 'id="add-number"' in client.get("/numbers/").text
    to_menu = {"target_kind": "ivr", "target_ivr": str(company.menu_id)}
    bad = post(client, "/numbers/add", {"e164": "12345", **to_menu}, "/numbers/")
    assert bad.status_code == 422 and "field-error" in bad.text
    taken = post(client, "/numbers/add", {"e164": company.main_number, **to_menu}, "/numbers/")
    assert taken.status_code == 422
    data = {"e164": "+46852009999", "target_kind": "ivr", "target_ivr": str(company.menu_id)}
    assert post(client, "/numbers/add", data, "/numbers/").status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        added = s.scalars(select(PhoneNumber).where(PhoneNumber.e164 == "+46852009999")).one()
        added_id = added.id
    # The main number is no longer the only way into the menu: it can go; the new one cannot.
    path = f"/numbers/{company.number_id}/remove"
    assert post(client, path, {}, "/numbers/").status_code == 302
    refused = post(client, f"/numbers/{added_id}/remove", {}, "/numbers/")
    assert refused.status_code == 302
    page = client.get("/numbers/").text
    assert "enda vägen in" in page and "Huvudmeny" in page
    assert post(client, f"/numbers/{rival.number_id}/remove", {}, "/numbers/").status_code == 404


def test_admins_cannot_add_or_remove_numbers(as_admin: FlaskClient, company: Company) -> None:
    data = {"e164": "+46852009998", "target_kind": "ivr", "target_ivr": str(company.menu_id)}
    assert post(as_admin, "/numbers/add", data, "/numbers/").status_code == 403
    path = f"/numbers/{company.number_id}/remove"
    assert post(as_admin, path, {}, "/numbers/").status_code == 403


def test_statistics_page_with_svg_and_csv(app: Flask, as_admin: FlaskClient, company) -> None:
    page = as_admin.get("/stats/?first=2020-01-01&last=2020-12-31")
    assert page.status_code == 200 and "Samtalsstatistik" in page.text
    assert 'id="chart-hours"' in page.text and "<script>" not in page.text  # no inline script
    with app.extensions["pbx"].unit_of_work() as s:
        at = datetime(2021, 6, 1, 8, 30, tzinfo=UTC)  # 10:30 Swedish summer time
        write_entries(s, [
            {"call_id": f"st-{i}", "leg": 1, "tenant_id": company.tenant_id, "user_id": None,
             "caller": "+46701234567", "callee": company.main_number, "direction": "inbound",
             "started_at": at, "answered_at": at if i else None, "ended_at": at,
             "disposition": "answered" if i else "no_answer"}
            for i in range(2)
        ])  # fmt: skip
    june = as_admin.get("/stats/?first=2021-06-01&last=2021-06-30").text
    assert company.main_number in june and re.search(r'id="total-calls">2<', june)
    assert "10:00 – 2" in june  # the busiest hour's bar, titled
    bad = as_admin.get("/stats/?first=2025-02-30")
    assert bad.status_code == 422
    header, *rows = stats_csv(as_admin)
    assert header == [
        "Avsnitt", "Namn", "Samtal", "Besvarat", "Missade", "Röstbrevlåda", "Vidarekopplat",
        "Medelväntetid (s)", "Längsta väntetid (s)",
    ]  # fmt: skip
    assert rows[0][:5] == ["Alla nummer", "", "2", "1", "1"]
    assert [company.main_number, "2"] == next(r for r in rows if r[0] == "Nummer")[1:3]
    assert [r[1:3] for r in rows if r[0] == "Timme"][10] == ["10", "2"]
    post(as_admin, "/language", {"lang": "en", "next": "/stats/"}, "/stats/")
    header, *rows = stats_csv(as_admin)
    assert header[:4] == ["Section", "Name", "Calls", "Answered"]
    assert header[-2:] == ["Average wait (s)", "Longest wait (s)"]
    assert rows[0][0] == "All numbers" and {r[0] for r in rows[1:]} <= {"Number", "Queue", "Hour"}
    with app.extensions["pbx"].unit_of_work() as s:
        stmt = select(AuditEvent).where(AuditEvent.action == "calllog.stats_export")
        assert {e.tenant_id for e in s.scalars(stmt)} == {company.tenant_id}


def stats_csv(client: FlaskClient) -> list[list[str]]:
    """The June statistics as exported (headers and sections in the page's language)."""
    token = csrf(client, "/stats/")
    response = client.post("/stats/export", data={"csrf_token": token, "first": "2021-06-01",
                                                  "last": "2021-06-30"})  # fmt: skip
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_users_get_403_on_statistics(as_user: FlaskClient) -> None:
    assert as_user.get("/stats/").status_code == 403


def upload(client: FlaskClient, data: bytes):
    token = csrf(client, "/users/import/")
    return client.post("/users/import/", data={"csrf_token": token,
                       "file": (io.BytesIO(data), "users.csv")},
                       content_type="multipart/form-data")  # fmt: skip


def count_users(app: Flask) -> int:
    with app.extensions["pbx"].unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(User)) or 0


def test_import_preview_shows_errors_in_swedish_and_writes_nothing(
    app: Flask, as_admin: FlaskClient, company: Company
) -> None:
    before = count_users(app)
    data = f"namn;e-post;anknytning\n;inte-epost;07\nKarin;{company.user.email};\n".encode()
    page = upload(as_admin, data)
    assert page.status_code == 422
    assert "får inte vara tom" in page.text.lower() or "Namn:" in page.text
    assert 'id="import-confirm"' not in page.text
    assert count_users(app) == before


def test_import_confirmed_creates_all_with_setup_links(
    app: Flask, as_admin: FlaskClient, company: Company
) -> None:
    before = count_users(app)
    data = "name,email,extension\nKarin Ek,karin@ek.example,501\nLars Ek,lars@ek.example,502\n"
    page = upload(as_admin, data.encode())
    assert page.status_code == 200 and 'id="import-confirm"' in page.text
    assert count_users(app) == before  # nothing until confirmed
    token = csrf(as_admin, "/users/import/")
    encoded = base64.b64encode(data.encode()).decode()
    done = as_admin.post("/users/import/confirm", data={"csrf_token": token, "data": encoded})
    assert done.status_code == 302 and count_users(app) == before + 2
    with app.extensions["pbx"].unit_of_work() as s:
        ours = OutboxMessage.to_address.like("%@ek.example")
        stmt = select(OutboxMessage).where(OutboxMessage.kind == "setup_link", ours)
        assert len(list(s.scalars(stmt))) == 2
    again = as_admin.post("/users/import/confirm", data={"csrf_token": token, "data": encoded})
    assert again.status_code == 422 and count_users(app) == before + 2  # all or none


def test_users_cannot_import(as_user: FlaskClient) -> None:
    assert as_user.get("/users/import/").status_code == 403
