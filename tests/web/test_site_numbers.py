"""Organisation / Nummer: route a number to an IVR menu, queue or user; external
destinations run the fraud guard and need re-authentication."""

from __future__ import annotations

from flask import Flask

from storage.models import PhoneNumber
from tests.web.site_data import Company, post, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]


def number(app: Flask, number_id: int) -> PhoneNumber:
    with app.extensions["pbx"].unit_of_work() as s:
        return s.get(PhoneNumber, number_id)


def test_list_shows_where_numbers_go(as_admin, company: Company) -> None:
    page = as_admin.get("/numbers/").text
    assert company.main_number in page and "Huvudmeny" in page


def test_route_to_a_queue(app, as_admin, company: Company) -> None:
    path = f"/numbers/{company.number_id}"
    data = {"target_kind": "queue", "target_queue": str(company.queue_id), "welcome_slot_id": ""}
    assert post(as_admin, path, data).status_code == 302
    routed = number(app, company.number_id)
    assert (routed.target_kind, routed.target_queue_id) == ("queue", company.queue_id)
    assert routed.welcome_slot_id is None


def test_bad_destinations_are_field_errors(app, as_admin, company: Company, rival: Company) -> None:
    path = f"/numbers/{company.number_id}"
    for data in (
        {"target_kind": "queue", "target_queue": str(rival.queue_id)},
        {"target_kind": "user", "target_user": "x"},
        {"target_kind": "bogus"},
        {"target_kind": "external", "target_external": "+46900123456"},
        {
            "target_kind": "ivr",
            "target_ivr": str(company.menu_id),
            "welcome_slot_id": str(rival.slot_ok),
        },
    ):
        response = post(as_admin, path, data)
        assert response.status_code == 422 and "field-error" in response.text, data
    assert number(app, company.number_id).target_kind == "ivr"


def test_external_destination_needs_reauthentication(app, as_admin, auth, company) -> None:
    path = f"/numbers/{company.number_id}"
    stale_reauth(as_admin)
    data = {"target_kind": "external", "target_external": "+46701234567"}
    response = post(as_admin, path, data)
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert number(app, company.number_id).target_kind == "ivr"
    auth.reauth(company.admin.password, company.admin.totp)
    assert post(as_admin, path, data).status_code == 302
    assert number(app, company.number_id).target_external == "+46701234567"


def test_users_get_403_and_rivals_404(app, as_user, company: Company, rival: Company) -> None:
    data = {"target_kind": "queue", "target_queue": str(company.queue_id)}
    assert post(as_user, f"/numbers/{company.number_id}", data, "/me/forwarding").status_code == 403


def test_rival_number_is_404(app, as_admin, rival: Company) -> None:
    data = {"target_kind": "queue", "target_queue": str(rival.queue_id)}
    assert post(as_admin, f"/numbers/{rival.number_id}", data, "/numbers/").status_code == 404
    assert number(app, rival.number_id).target_kind == "ivr"
