"""The Swedish national form (0701234567) wherever a number is typed: forwarding, a user's
mobile, the operator's numbers and record-by-phone; a colleague's extension on the
record-by-phone page is "not your own number", not a format error (issue 16 item 10)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from storage.models import ForwardingRule, PhoneNumber, User
from tests.web.library_data import Studio
from tests.web.library_data import post as studio_post
from tests.web.site_data import Company, post
from tests.web.test_site_issue17 import operator_client

pytest_plugins = ["tests.web.site_fixtures", "tests.web.library_fixtures"]


def test_forwarding_to_a_national_number_is_stored_in_e164(
    app: Flask, as_admin: FlaskClient, company: Company
) -> None:
    data = {"kind": "unconditional", "destination": "070-765 43 21", "ring_seconds": "20",
            "active": "on", "action": "save"}  # fmt: skip
    response = post(as_admin, f"/users/{company.user.id}/forwarding", data)
    assert response.status_code == 302, response.text
    with app.extensions["pbx"].unit_of_work() as s:
        rule = s.scalar(select(ForwardingRule).where(ForwardingRule.user_id == company.user.id))
        assert rule is not None and rule.destination == "+46707654321"


def test_a_refused_country_is_named(as_admin: FlaskClient, company: Company) -> None:
    data = {"kind": "unconditional", "destination": "+1 876 555 1234", "ring_seconds": "20",
            "active": "on", "action": "save"}  # fmt: skip
    response = post(as_admin, f"/users/{company.user.id}/forwarding", data)
    assert response.status_code == 422 and "Jamaica" in response.text


def test_a_users_mobile_in_the_national_form(
    app: Flask, as_admin: FlaskClient, company: Company
) -> None:
    data = {"name": "Ny", "extension": "101", "mobile": "070 111 22 33", "role": "user"}
    assert post(as_admin, f"/users/{company.user.id}", data).status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, company.user.id).mobile == "+46701112233"


def test_the_operator_adds_a_number_in_the_national_form(app: Flask, company: Company) -> None:
    client = operator_client(app, company)
    data = {"e164": "08-520 099 99", "target_kind": "ivr", "target_ivr": str(company.menu_id)}
    assert post(client, "/numbers/add", data, "/numbers/").status_code == 302
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+46852009999"))


def test_record_by_phone_takes_your_mobile_in_the_national_form(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    national = "0" + (studio.admin.mobile or "")[3:]
    started = studio_post(studio_admin, f"/library/{studio.lost}/record", {"number": national})
    assert started.status_code == 302 and "call=" in started.headers["Location"]


def test_a_colleagues_extension_is_not_your_own_number(
    studio_admin: FlaskClient, studio: Studio
) -> None:
    with studio_admin.application.extensions["pbx"].unit_of_work() as s:
        colleague = s.get(User, studio.user.id).extension
    path = f"/library/{studio.placed}/record"
    response = studio_post(studio_admin, path, {"number": colleague})
    assert response.status_code == 422
    assert "ditt eget registrerade nummer" in response.text and "E.164" not in response.text
    assert studio_admin.get("/softphone/incoming").get_json() == {"call": None}
