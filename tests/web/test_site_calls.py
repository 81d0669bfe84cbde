"""Samtalslista: scoping (admins the company's calls, users their own), masking, audited
reveal, filters, CSV export behind re-authentication (audited), paging."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from admin_web.i18n import load_catalog
from pbx.services.calllog.entries import write_entries
from pbx.services.calllog.vocabulary import DISPOSITION_LABELS
from pbx.services.calls import live as live_calls
from pbx.services.calls.live import PhoneEvent
from pbx.services.common.actor import Actor
from storage.models import AuditEvent, CallLogEntry, MessageSlot, User, UserSession
from tests.library_media import speech_wav
from tests.web.site_data import T0, Company, post, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]
MINUTE = timedelta(seconds=61)
CALL = {
    "leg": 0,
    "tenant_id": 1,
    "user_id": None,
    "caller": "+46812345678",
    "callee": "+46852000001",
    "direction": "inbound",
    "started_at": T0,
    "ended_at": T0,
    "disposition": "abandoned",
}


def audited(app: Flask, action: str) -> int:
    with app.extensions["pbx"].unit_of_work() as s:
        stmt = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        return s.scalar(stmt) or 0


def test_admin_sees_masked_calls_and_the_read_is_audited(app, as_admin, company) -> None:
    page = as_admin.get("/calls/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "+46•••••••01" in page.text and "+46701234501" not in page.text
    assert company.main_number in page.text  # the company's own number is not a secret
    assert audited(app, "calllog.view") == 1


def test_a_row_reads_as_a_call_and_outside_text_stays_text(app, as_admin, company) -> None:
    spoofed = '"><img src=x>&'  # a caller ID is whatever the caller's network sent
    call = dict(CALL, tenant_id=company.tenant_id, call_id="x1", caller=spoofed)
    answered = dict(call, answered_at=T0, ended_at=T0.replace(minute=3, second=5))
    with app.extensions["pbx"].unit_of_work() as s:
        write_entries(s, [dict(answered, disposition="answered", forwarded_to="+46709876543")])
        entry_id = s.scalar(select(CallLogEntry.id).where(CallLogEntry.call_id == "x1"))
    page = as_admin.get("/calls/").text
    row = next(line for line in page.splitlines() if f"/calls/{entry_id}/reveal" in line)
    assert "<img" not in page and "&quot;&gt;&lt;img src=x&gt;&amp;" in row
    assert "<td>2026-07-03 11:00</td>" in row  # Swedish summer time, not UTC
    assert "Inkommande" in row and 'class="disp-answered">Besvarat<' in row
    assert "<td>3:05</td>" in row and "+46•••••••43" in row and "Visa nummer" in row
    post(as_admin, "/language", {"lang": "en", "next": "/calls/"}, "/calls/")
    row = next(x for x in as_admin.get("/calls/").text.splitlines() if "/reveal" in x)
    assert "Incoming" in row and ">Answered<" in row and "Show numbers" in row


def test_reloading_one_view_is_audited_once_a_minute(app, as_admin, company) -> None:
    as_admin.get("/calls/")
    as_admin.get("/calls/")
    assert audited(app, "calllog.view") == 1
    as_admin.get("/calls/?disposition=answered")
    as_admin.get("/calls/")
    assert audited(app, "calllog.view") == 3
    with app.extensions["pbx"].unit_of_work() as s:  # a minute passes
        for browser in s.scalars(
            select(UserSession).where(UserSession.calllog_read_at.is_not(None))
        ):
            browser.calllog_read_at -= MINUTE
    as_admin.get("/calls/")
    assert audited(app, "calllog.view") == 4


def test_reveal_is_a_post_and_audited(app, as_admin, company: Company) -> None:
    entry = company.call_ids[0]
    assert as_admin.get(f"/calls/{entry}/reveal").status_code == 405
    response = post(as_admin, f"/calls/{entry}/reveal", {}, "/calls/")
    assert response.status_code == 200 and "+4670123450" in response.text
    assert audited(app, "calllog.reveal") == 1


def test_rival_calls_are_404(app, as_admin, rival: Company) -> None:
    response = post(as_admin, f"/calls/{rival.call_ids[0]}/reveal", {}, "/calls/")
    assert response.status_code == 404 and audited(app, "calllog.reveal") == 0


def test_user_sees_own_calls_only(app, as_user, company: Company) -> None:
    assert "+46•••••••01" in as_user.get("/calls/").text
    assert "Exportera" not in as_user.get("/calls/").text
    assert post(as_user, "/calls/export", {}, "/calls/").status_code == 403


def test_user_does_not_see_colleagues_calls(app, as_user, company: Company) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        write_entries(
            s, [dict(CALL, call_id="adm", user_id=company.admin.id, caller="+46731112299")]
        )
    assert "+46•••••••99" not in as_user.get("/calls/").text


def test_filters_and_their_errors(app, as_admin, company: Company) -> None:
    one = as_admin.get("/calls/?number=%2B46701234501").text
    assert one.count("<tr>") == 2 and "+46•••••••02" not in one
    assert "Inga samtal matchar" in as_admin.get("/calls/?disposition=busy").text
    for query in (
        "date_from=3+juli",
        "number=abc",
        "disposition=x",
        "cursor=nope",
        "date_from=2026-07-05&date_to=2026-07-01",
    ):
        response = as_admin.get(f"/calls/?{query}")
        assert response.status_code == 422 and "field-error" in response.text, query


def test_export_needs_reauthentication_and_is_audited(app, as_admin, auth, company) -> None:
    stale_reauth(as_admin)
    response = post(as_admin, "/calls/export", {"date_from": ""}, "/calls/")
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert audited(app, "calllog.export") == 0
    auth.reauth(company.admin.password, company.admin.totp)
    response = post(as_admin, "/calls/export", {"number": "+46701234501"}, "/calls/")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["Från"] for r in rows] == ["+46701234501"]
    assert audited(app, "calllog.export") == 1
    assert post(as_admin, "/calls/export", {"date_from": "x"}, "/calls/").status_code == 422


def export_rows(client) -> list[list[str]]:
    response = post(client, "/calls/export", {}, "/calls/")
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_export_speaks_the_pages_language(app, as_admin, company: Company) -> None:
    """Headers and stored words (direction, outcome, why a leg was refused) in the page's
    language, in the stored column order; the first leg is written 0, not left empty."""
    refused = dict(CALL, tenant_id=company.tenant_id, call_id="r1", leg=0, disposition="refused")
    with app.extensions["pbx"].unit_of_work() as s:
        write_entries(s, [dict(refused, refused_reason="country_not_allowed")])
    header, *rows = export_rows(as_admin)
    assert header == [
        "Började", "Besvarades", "Slutade", "Riktning", "Från", "Till", "Utfall",
        "Vidarekopplat till", "Nekat eftersom", "Samtals-ID", "Samtalsben",
    ]  # fmt: skip
    row = next(r for r in rows if r[9] == "r1")
    assert row[3:4] + row[6:9] + row[10:] == [
        "Inkommande", "Nekat", "", "Landet är inte tillåtet", "0"
    ]  # fmt: skip
    assert all(r[10].isdigit() for r in rows)
    post(as_admin, "/language", {"lang": "en", "next": "/calls/"}, "/calls/")
    header, *rows = export_rows(as_admin)
    assert header[:4] == ["Started at", "Answered at", "Ended at", "Direction"]
    assert next(r for r in rows if r[9] == "r1")[6:9] == ["Refused", "", "Country not allowed"]


def test_every_refusal_has_words() -> None:
    from typing import get_args

    from admin_web.i18n import load_catalog
    from pbx.policies.destinations import ReasonCode
    from pbx.services.calllog.vocabulary import REFUSAL_LABELS

    assert set(REFUSAL_LABELS) == set(get_args(ReasonCode))
    swedish = load_catalog("sv")
    assert all(swedish.get(label, label) != label for label in REFUSAL_LABELS.values())


def test_paging_with_a_cursor(app, as_admin, company: Company) -> None:
    from pbx.services.calllog.entries import write_entries
    from tests.web.site_data import T0

    with app.extensions["pbx"].unit_of_work() as s:
        write_entries(
            s,
            [
                {
                    "call_id": f"p{i}",
                    "leg": 0,
                    "tenant_id": company.tenant_id,
                    "user_id": None,
                    "caller": "+46812345678",
                    "callee": company.main_number,
                    "direction": "inbound",
                    "started_at": T0,
                    "ended_at": T0,
                    "disposition": "abandoned",
                }
                for i in range(60)
            ],
        )
    first = as_admin.get("/calls/").text
    assert "Äldre samtal" in first
    link = first.split('class="pager"><a class="button secondary" href="')[1].split('"')[0]
    second = as_admin.get(link.replace("&amp;", "&"))
    assert second.status_code == 200 and "Äldre samtal" not in second.text
    assert second.text.count("<tr>") == 63 - 50 + 1  # 13 rows and the header


def test_csrf_is_required_for_reveal(as_admin, company: Company) -> None:
    assert as_admin.post(f"/calls/{company.call_ids[0]}/reveal").status_code == 400


def test_record_by_phone_and_333_read_as_calls_on_the_page_and_in_the_csv(
    app, as_admin, auth, company
) -> None:
    """Both calls with a person at the other end go through the one driver: their rows show
    who called and a Swedish outcome, and export with an outcome from the call log's list."""
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        admin = s.get(User, company.admin.id)
        me = Actor(admin.id, admin.email, admin.role, admin.tenant_id)
        blobs = runtime.blobs(s)
        slot = s.get(MessageSlot, company.slot_missing)
        call = live_calls.start_callback(s, blobs, me, admin, slot, admin.extension)
        call = live_calls.feed(s, blobs, me, call, PhoneEvent("answer"))
        live_calls.feed(s, blobs, me, call, PhoneEvent("hangup"), audio=speech_wav(1.5))
        service = live_calls.dial_service(s, blobs, me, admin)
        live_calls.feed(s, blobs, me, service, PhoneEvent("hangup"))
    rows = [line for line in as_admin.get("/calls/").text.splitlines() if "/reveal" in line]
    outgoing = [r for r in rows if "<td>Utgående</td>" in r]
    internal = [r for r in rows if "<td>Internt</td>" in r]
    assert outgoing and internal
    for row in outgoing + internal:
        caller = row.split("<td>")[2].split("</td>")[0]  # "Från", after the time
        assert caller.strip(), row
        assert 'class="disp-answered">Besvarat<' in row
    auth.reauth(company.admin.password, company.admin.totp)
    exported = post(as_admin, "/calls/export", {}, "/calls/").text.lstrip("\ufeff")
    swedish = load_catalog("sv")
    outcomes = {swedish.get(label, label) for label in DISPOSITION_LABELS.values()}
    for line in csv.DictReader(io.StringIO(exported)):  # headers in the page's language
        assert line["Från"] and line["Utfall"] in outcomes, line
