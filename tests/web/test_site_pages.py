"""Every page of the site renders for the roles that may see it, and only for them."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.site_data import Company

pytest_plugins = ["tests.web.site_fixtures"]

ADMIN_PAGES = [
    "/company/",
    "/company/countries",
    "/users/",
    "/users/new",
    "/numbers/",
    "/ivr/",
    "/queues/",
    "/testcall/",
]


def object_pages(c: Company) -> list[str]:
    return [
        f"/users/{c.user.id}",
        f"/users/{c.user.id}/forwarding",
        f"/numbers/{c.number_id}",
        f"/ivr/{c.menu_id}",
        f"/queues/{c.queue_id}",
    ]


def test_admin_sees_every_page(as_admin: FlaskClient, company: Company) -> None:
    for path in [*ADMIN_PAGES, *object_pages(company), "/calls/", "/me/forwarding"]:
        response = as_admin.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" in response.headers


def test_user_gets_403_on_admin_pages(as_user: FlaskClient, company: Company) -> None:
    for path in [*ADMIN_PAGES, *object_pages(company)]:
        assert as_user.get(path).status_code == 403, path
    assert as_user.get("/calls/").status_code == 200
    assert as_user.get("/me/forwarding").status_code == 200


def test_signed_out_goes_to_login(client: FlaskClient, company: Company) -> None:
    for path in [*ADMIN_PAGES, "/calls/", "/me/forwarding"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_other_company_objects_are_404(
    as_admin: FlaskClient, company: Company, rival: Company
) -> None:
    for path in object_pages(rival):
        assert as_admin.get(path).status_code == 404, path
