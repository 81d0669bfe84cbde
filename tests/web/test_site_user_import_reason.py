"""Användare / Importera: the optional `mobilskäl` column lets a foreign mobile through the
mobile-number rules, as on the user form; without it the row's error says why, in Swedish."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from tests.web.site_data import Company, csrf

pytest_plugins = ["tests.web.site_fixtures"]


def upload(client: FlaskClient, data: bytes):
    token = csrf(client, "/users/import/")
    return client.post(
        "/users/import/",
        data={"csrf_token": token, "file": (io.BytesIO(data), "users.csv")},
        content_type="multipart/form-data",
    )


def test_foreign_mobile_needs_the_reason_column(as_admin: FlaskClient, company: Company) -> None:
    assert (
        "Valfri kolumn mobile_reason (på svenska mobilskäl)" in as_admin.get("/users/import/").text
    )
    bare = upload(as_admin, b"namn;e-post;mobil\nOla;ola@ek.example;+4741234567\n")
    assert bare.status_code == 422 and "Ange varför användarens egen mobil är utländsk" in bare.text
    with_reason = "namn;e-post;mobil;mobilskäl\nOla;ola@ek.example;+4741234567;Bor i Oslo\n"
    page = upload(as_admin, with_reason.encode())
    assert page.status_code == 200 and 'id="import-confirm"' in page.text
