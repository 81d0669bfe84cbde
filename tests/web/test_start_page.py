"""Issue 16 items 4 and 5: a start page per role; the operator always sees which company is
being administered (header and title) and can switch or stop."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.web.conftest import csrf_token
from tests.web.page_walk import demo_people, sign_in


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    return demo_people(app)


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match
    return " ".join(match.group(1).split())


def test_company_admin_start_page(app: Flask, people: dict[str, Any]) -> None:
    html = sign_in(app, people["admin"]).get("/").get_data(as_text=True)
    assert "<h1>Bergström Bygg AB</h1>" in html
    assert _title(html) == "Bergström Bygg AB · Växel"
    assert "/library/?missing=1" in html or "Alla meddelanden har ljud." in html
    for words in (
        "vidarekoppling",
        "bedrägerilarm",
        "utan tvåstegsverifiering",
        "Beslut som ska fattas (IMY, 72 timmar)",
        "Senaste ändringar",
    ):
        assert words in html, words
    assert re.search(r'id="recent-changes">\s*<li>\d{4}-\d\d-\d\d \d\d:\d\d', html)


def test_user_start_page(app: Flask, people: dict[str, Any]) -> None:
    html = sign_in(app, people["user"]).get("/").get_data(as_text=True)
    assert f"Hej {people['user'][0].name}" in html
    assert "nya röstmeddelanden" in html or "nytt röstmeddelande" in html
    assert "Ingen vidarekoppling är på." in html and "/me/forwarding" in html


def test_operator_start_page_and_the_administered_company(
    app: Flask, people: dict[str, Any]
) -> None:
    client = sign_in(app, people["operator"])
    html = client.get("/").get_data(as_text=True)
    assert "1 öppet bedrägerilarm" in html  # one alert, the singular from the catalogue
    for words in (
        "Öppna incidenter",
        "Företag med saknade",
        "Försenade återställningsövningar",
    ):
        assert words in html, words
    assert 'id="administering"' not in html
    token = csrf_token(client, "/")
    client.post("/company/choose", data={"csrf_token": token, "tenant_id": people["tenant_id"]})
    for page in ("/", "/users/", "/library/", "/calls/"):
        html = client.get(page).get_data(as_text=True)
        assert "Du administrerar Bergström Bygg AB." in html, page
        assert _title(html).endswith("Bergström Bygg AB · Växel"), page
        assert "Byt företag" in html and "Sluta administrera" in html
    left = client.post("/administering/leave", data={"csrf_token": csrf_token(client, "/")})
    assert left.status_code == 302 and left.headers["Location"].endswith("/company/choose")
    assert 'id="administering"' not in client.get("/").get_data(as_text=True)
