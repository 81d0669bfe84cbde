"""Provringa: a test call through the engine, its trace with audio and missing messages."""

from __future__ import annotations

import re

from flask import Flask

from pbx.services.common.actor import SYSTEM
from pbx.services.library import slots
from storage.models import CallLogEntry, MessageSlot
from tests.web.site_data import Company, post, wav

pytest_plugins = ["tests.web.site_fixtures"]


def steps(html: str) -> list[str]:
    return re.findall(r'<li class="([^"]+)" data-kind=', html)


def test_page_without_a_call(as_admin, company: Company) -> None:
    page = as_admin.get("/testcall/")
    assert (
        page.status_code == 200 and 'data-key="5"' in page.text and company.main_number in page.text
    )


def test_call_through_the_ivr_shows_the_trace(app: Flask, as_admin, company: Company) -> None:
    page = as_admin.get(f"/testcall/?number={company.number_id}&keys=1")
    assert page.status_code == 200
    kinds = steps(page.text)
    # welcome (missing: red) → menu prompt (audio) → key 1 → rings the user → answered
    assert kinds[0] == "prompt missing" and "prompt" in kinds[1:]
    assert "dtmf" in kinds and "ring" in kinds and "answer" in kinds
    assert f'src="/media/slots/{company.slot_ok}"' in page.text
    assert "Välkommen" in page.text and "saknas" in page.text
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.query(CallLogEntry).filter_by(call_id="provringa").count() == 0


def test_recovered_message_is_heard_in_the_next_test_call(app, as_admin, company) -> None:
    runtime = app.extensions["pbx"]
    with runtime.unit_of_work() as s:
        slot = s.get(MessageSlot, company.slot_missing)
        slots.add_version(
            s, runtime.blobs(s), SYSTEM, slot, wav(), source="upload", duration_ms=100
        )
    page = as_admin.get(f"/testcall/?number={company.number_id}")
    assert "missing" not in steps(page.text)[0]


def test_nobody_answers_goes_on_to_voicemail(as_admin, company: Company) -> None:
    page = as_admin.get(f"/testcall/?number={company.number_id}&keys=1&phones=no_answer")
    assert "no_answer" in steps(page.text) and "voicemail" in steps(page.text)


def test_bad_input_is_a_field_error(as_admin, company: Company, rival: Company) -> None:
    for query in ("keys=12a", "keys=" + "1" * 40, "phones=maybe"):
        response = as_admin.get(f"/testcall/?number={company.number_id}&{query}")
        assert response.status_code == 422 and "field-error" in response.text, query
    assert as_admin.get(f"/testcall/?number={rival.number_id}").status_code == 404
    assert as_admin.get("/testcall/?number=abc").status_code == 404


def test_users_cannot_test_call(as_user, company: Company) -> None:
    assert as_user.get(f"/testcall/?number={company.number_id}").status_code == 403


def test_test_call_is_a_read(as_admin, company: Company) -> None:
    assert post(as_admin, "/testcall/", {"number": str(company.number_id)}).status_code == 405
