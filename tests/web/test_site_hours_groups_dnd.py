"""Öppettider, ringgrupper och köer, stör ej on the site (test client): pages in Swedish,
forms that save through the services, field errors with 422, and the test call tried as if
it were another day."""

from __future__ import annotations

from flask import Flask

from storage.models import OpeningHours, PhoneNumber, Queue, User
from tests.web.site_data import Company, post

pytest_plugins = ["tests.web.site_fixtures"]


def test_hours_page_lists_weekdays_holidays_and_numbers(as_admin, company: Company) -> None:
    page = as_admin.get("/hours/?year=2025")
    assert page.status_code == 200
    text = page.text
    assert "Öppettider" in text and "Måndag" in text and "08:00–17:00" in text
    assert "Midsommarafton" in text and "Julafton" in text and "Nyårsafton" in text
    assert company.main_number in text


def test_weekly_hours_save_and_bad_hours_are_field_errors(
    app: Flask, as_admin, company: Company
) -> None:
    data = {f"day_{d}": "09:00-16:00" for d in range(5)} | {"day_5": "10:00-13:00"}
    assert post(as_admin, "/hours/weekly", data, "/hours/").status_code == 302
    bad = post(as_admin, "/hours/weekly", {"day_0": "17-08"}, "/hours/")
    assert bad.status_code == 422 and "field-error" in bad.text and "day_0-error" in bad.text
    with app.extensions["pbx"].unit_of_work() as s:
        row = s.query(OpeningHours).filter_by(tenant_id=company.tenant_id).one()
        assert [5, 600, 780] in row.weekly


def test_holidays_and_closed_days(app: Flask, as_admin, company: Company) -> None:
    ok = post(as_admin, "/hours/holidays", {"year": "2025", "open_holidays": "Julafton"}, "/hours/")
    assert ok.status_code == 302
    added = post(
        as_admin, "/hours/closed-days", {"date": "2025-08-15", "note": "Kickoff"}, "/hours/"
    )
    assert added.status_code == 302
    page = as_admin.get("/hours/?year=2025")
    assert "Kickoff" in page.text and 'value="Julafton" checked' in page.text.replace(
        ' aria-label="Öppet på Julafton"', ""
    )
    bad = post(as_admin, "/hours/closed-days", {"date": "15/8"}, "/hours/")
    assert bad.status_code == 422
    gone = post(as_admin, "/hours/closed-days/remove", {"date": "2025-08-15"}, "/hours/")
    assert gone.status_code == 302 and "Kickoff" not in as_admin.get("/hours/").text


def test_number_closed_branch_and_the_test_call_as_if(app: Flask, as_admin, company) -> None:
    path = f"/hours/numbers/{company.number_id}"
    data = {
        "by_hours": "1",
        "closed_kind": "voicemail",
        "closed_voicemail": str(company.user.id),
        "closed_slot_id": str(company.slot_ok),
    }
    assert post(as_admin, path, data).status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(PhoneNumber, company.number_id).closed_kind == "voicemail"
    saturday = as_admin.get(f"/testcall/?number={company.number_id}&at=2025-03-08T11:00")
    assert saturday.status_code == 200
    assert "Stängt: utanför öppettiderna (Lördag)" in saturday.text
    assert "2025-03-08 11:00" in saturday.text
    monday = as_admin.get(f"/testcall/?number={company.number_id}&at=2025-03-03T10:00")
    assert "Öppet (öppettider 08:00–17:00)" in monday.text
    julafton = as_admin.get(f"/testcall/?number={company.number_id}&at=2025-12-24T10:00")
    assert "Stängt: Julafton (helgdag)" in julafton.text
    bad = as_admin.get(f"/testcall/?number={company.number_id}&at=igår")
    assert bad.status_code == 422
    # own hours for the number, then back to the company's
    own = post(
        as_admin,
        "/hours/weekly",
        {"number_id": str(company.number_id), "day_5": "10:00-12:00"},
        path,
    )
    assert own.status_code == 302 and "egna öppettider" in as_admin.get(path).text
    assert post(as_admin, f"{path}/company-hours", {}, path).status_code == 302
    assert "följer företagets öppettider" in as_admin.get(path).text


def test_other_companies_numbers_are_not_found(as_admin, rival: Company) -> None:
    assert as_admin.get(f"/hours/numbers/{rival.number_id}").status_code == 404


def test_queue_page_sets_strategy_position_and_hold(app: Flask, as_admin, company) -> None:
    path = f"/queues/{company.queue_id}"
    page = as_admin.get(path)
    assert "Ringgrupp" in page.text and "Minst nyligen svarat först" in page.text
    data = {
        "name": "Kön",
        "members": str(company.user.id),
        "max_wait_seconds": "60",
        "overflow_kind": "hangup",
        "kind": "queue",
        "strategy": "round_robin",
        "ring_seconds": "15",
        "announce_position": "1",
        "hold_slot_id": str(company.slot_ok),
    }
    assert post(as_admin, path, data).status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        queue = s.get(Queue, company.queue_id)
        assert (queue.strategy, queue.ring_seconds, queue.announce_position) == (
            "round_robin",
            15,
            True,
        )
    bad = post(as_admin, path, {**data, "kind": "ring_group"})
    assert bad.status_code == 422 and "field-error" in bad.text


def test_user_switches_dnd_and_the_admin_sees_it(app: Flask, as_user, company) -> None:
    page = as_user.get("/presence/")
    assert page.status_code == 200 and "Stör ej" in page.text and "*76" in page.text
    assert post(as_user, "/presence/", {}).status_code == 302
    assert 'data-dnd="on"' in as_user.get("/presence/").text
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, company.user.id).dnd is True
    assert as_user.get("/presence/company").status_code == 403


def test_admin_sees_who_is_on_dnd_and_switches_it_off(app: Flask, as_admin, company) -> None:
    with app.extensions["pbx"].unit_of_work() as s:
        s.get(User, company.user.id).dnd = True
    page = as_admin.get("/presence/company")
    assert page.status_code == 200 and 'data-dnd="on"' in page.text
    off = post(as_admin, f"/presence/company/{company.user.id}/off", {}, "/presence/company")
    assert off.status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, company.user.id).dnd is False
