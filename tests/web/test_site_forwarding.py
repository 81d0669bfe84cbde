"""Forwarding pages: the fraud guard's reasons in Swedish and English, re-authentication for
external numbers, notification of the owner and the "this wasn't me" link."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pbx.services.routing import forwarding
from storage.models import AuditEvent, ForwardingRule, OutboxMessage, User
from tests.web.conftest import AuthActions
from tests.web.site_data import Company, post, stale_reauth

pytest_plugins = ["tests.web.site_fixtures"]


def rule(app: Flask, user_id: int, kind: str = "unconditional") -> ForwardingRule | None:
    with app.extensions["pbx"].unit_of_work() as s:
        return s.scalar(
            select(ForwardingRule).where(
                ForwardingRule.user_id == user_id, ForwardingRule.kind == kind
            )
        )


def save(
    client: FlaskClient,
    path: str,
    destination: str,
    kind: str = "unconditional",
    form_page: str | None = None,
    **extra: str,
):
    data = {"kind": kind, "destination": destination, "ring_seconds": "20", "active": "on"}
    return post(client, path, {**data, "action": "save", **extra}, form_page)


def test_admin_forwards_a_user_to_an_extension(app, as_admin, company: Company) -> None:
    path = f"/users/{company.user.id}/forwarding"
    response = save(as_admin, path, "102")
    assert response.status_code == 302
    assert rule(app, company.user.id).destination == "102"
    with app.extensions["pbx"].unit_of_work() as s:
        notice = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "forwarding_changed"))
        assert notice.user_id == company.user.id and "/forwarding/review/" in notice.body
        kind = rule(app, company.user.id).kind  # the mail names it in words, both languages
        sv, en = forwarding.kind_words(kind)
        assert f"Vidarekopplingen ({sv})" in notice.body and f"forwarding ({en})" in notice.body
        assert f"({kind})" not in notice.body
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "forwarding.set"))


def test_external_number_needs_reauthentication(app, as_admin, auth, company: Company) -> None:
    path = f"/users/{company.user.id}/forwarding"
    stale_reauth(as_admin)
    response = save(as_admin, path, "+46 70 765 43 21")
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert rule(app, company.user.id) is None
    back = as_admin.get(response.headers["Location"])
    assert back.status_code == 200
    auth.reauth(company.admin.password, company.admin.totp)
    prefilled = as_admin.get(f"{path}?kind=unconditional&destination=%2B46707654321")
    assert 'value="+46707654321"' in prefilled.get_data(as_text=True)
    assert save(as_admin, path, "+46707654321").status_code == 302
    assert rule(app, company.user.id).destination == "+46707654321"


def test_refused_numbers_show_why_in_swedish_and_english(app, as_admin, company: Company) -> None:
    path = f"/users/{company.user.id}/forwarding"
    response = save(as_admin, path, "+882 1234 5678")
    assert response.status_code == 422
    assert "aldrig tillåtna" in response.get_data(as_text=True)
    post(as_admin, "/language", {"lang": "en"}, form_page=path)
    cases = {
        "+882 1234 5678": "satellite or international network",
        "+46900123456": "Premium-rate numbers are never allowed",
        "+4791234567": "not allowed for this company",
        "07012": "for a Swedish number, 0701234567",
    }
    for number, reason in cases.items():
        response = save(as_admin, path, number)
        assert response.status_code == 422 and reason in response.get_data(as_text=True), number
    assert rule(app, company.user.id) is None


def test_bad_ring_time_is_a_field_error(app, as_admin, company: Company) -> None:
    path = f"/users/{company.user.id}/forwarding"
    response = save(as_admin, path, "102", kind="no_answer", ring_seconds="500")
    assert response.status_code == 422 and "field-error" in response.get_data(as_text=True)
    assert rule(app, company.user.id, "no_answer") is None


def test_user_changes_and_removes_own_forwarding(app, as_user, company: Company) -> None:
    assert save(as_user, "/me/forwarding", "100", kind="busy").status_code == 302
    assert rule(app, company.user.id, "busy").destination == "100"
    response = post(as_user, "/me/forwarding", {"kind": "busy", "action": "remove"})
    assert response.status_code == 302 and rule(app, company.user.id, "busy") is None


def test_user_cannot_touch_colleagues_forwarding(app, as_user, company: Company) -> None:
    colleague = f"/users/{company.other_admin.id}/forwarding"
    assert as_user.get(colleague).status_code == 403
    response = save(as_user, colleague, "101", form_page="/me/forwarding")
    assert response.status_code == 403 and rule(app, company.other_admin.id) is None


def test_other_company_user_is_404_for_admin(app, as_admin, rival: Company) -> None:
    path = f"/users/{rival.user.id}/forwarding"
    assert as_admin.get(path).status_code == 404
    token = re.search(r'name="csrf_token" value="([^"]+)"', as_admin.get("/me/forwarding").text)
    data = {"kind": "busy", "destination": "100", "action": "save", "csrf_token": token.group(1)}
    assert as_admin.post(path, data=data).status_code == 404
    assert rule(app, rival.user.id, "busy") is None


def test_post_without_csrf_token_is_refused(app, as_admin, company: Company) -> None:
    data = {"kind": "busy", "destination": "101", "action": "save"}
    assert as_admin.post("/me/forwarding", data=data).status_code == 400
    assert rule(app, company.admin.id, "busy") is None


def review_link(app: Flask, user_id: int) -> str:
    with app.extensions["pbx"].unit_of_work() as s:
        body = s.scalar(
            select(OutboxMessage.body)
            .where(OutboxMessage.user_id == user_id, OutboxMessage.kind == "forwarding_changed")
            .order_by(OutboxMessage.id.desc())
        )
    return "/forwarding/review/" + re.search(r"/forwarding/review/(\S+)", body).group(1)


def test_this_wasnt_me_reverts_and_suspends_the_changer(
    app, as_user, auth: AuthActions, client: FlaskClient, company: Company
) -> None:
    save(as_user, "/me/forwarding", "100", kind="busy")
    save(as_user, "/me/forwarding", "102", kind="busy")
    link = review_link(app, company.user.id)
    auth.logout()
    page = client.get(link)
    assert page.status_code == 200 and "102" in page.text
    done = post(client, link, {})
    assert done.status_code == 200
    assert rule(app, company.user.id, "busy").destination == "100"
    with app.extensions["pbx"].unit_of_work() as s:
        assert s.get(User, company.user.id).status == "suspended"
        told = s.scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "forwarding_reported")
        )
        assert set(told) == {company.admin.id, company.other_admin.id}
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "forwarding.reported"))
    assert client.get(link).status_code == 404  # single use


def test_unknown_review_link_is_404(client: FlaskClient, company: Company) -> None:
    assert client.get("/forwarding/review/" + "x" * 43).status_code == 404
    assert client.get("/forwarding/review/short").status_code == 404


def test_a_refusal_names_the_kind_and_country_and_swedish_examples_only_for_sweden(
    app, as_admin, company: Company
) -> None:
    """Issue 18: "delad kostnad (077)" was said of a Norwegian number."""
    path = f"/users/{company.user.id}/forwarding"

    def why(number: str) -> str:
        response = save(as_admin, path, number)
        assert response.status_code == 422, number
        text = response.get_data(as_text=True)
        return text[text.index('-destination-error" role') :][:400]

    norwegian = why("+4781021234")
    assert "delad kostnad i Norge" in norwegian and "077" not in norwegian
    assert "personligt nummer i Norge" in why("+4788012345") and "075" not in why("+4788012345")
    assert "(077)" in why("+46771234567") and "Sverige" in why("+46771234567")
    assert "(0900, 0939, 0944)" in why("+46900123456")
    finnish = why("+358600123456")
    assert "betalnummer i Finland" in finnish and "0900" not in finnish
    assert "0900" not in why("+979123456789")
    post(as_admin, "/language", {"lang": "en"}, form_page=path)
    english = why("+4781021234")
    assert "shared-cost number in Norway" in english and "077" not in english
    assert rule(app, company.user.id) is None
