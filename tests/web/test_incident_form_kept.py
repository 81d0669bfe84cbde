"""Issue 16 item 9: the incident form keeps the ticked "Typ av incident" and "Drabbade
företag" after an error, and "Upptäckt" starts at now (Stockholm time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from tests.web.conftest import AuthActions
from tests.web.test_incident_pages import Site, post, sign_in, site  # noqa: F401

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _ticked(html: str, name: str) -> set[str]:
    tags = re.findall(rf'<input type="checkbox" name="{name}" value="([^"]+)"([^>]*)>', html)
    return {value for value, rest in tags if "checked" in rest}


def test_ticked_boxes_survive_an_error_and_discovered_is_now(
    app: Flask,
    auth: AuthActions,
    site: Site,  # noqa: F811
) -> None:
    client = sign_in(auth, site.operator)
    blank = client.get("/incidents/new").get_data(as_text=True)
    shown = re.search(r'name="discovered_at"[^>]*value="([^"]+)"', blank) or re.search(
        r'value="([^"]+)"[^>]*name="discovered_at"', blank
    )
    assert shown, "Upptäckt has no value"
    at = datetime.strptime(shown.group(1), "%Y-%m-%dT%H:%M").replace(tzinfo=STOCKHOLM)
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=2)
    slug = site.world.tenant.slug
    data = {"title": "", "discovered_at": shown.group(1), "nature": ["availability"],
            "tenants": [slug]}  # fmt: skip
    refused = post(client, "/incidents/new", data, "/incidents/new")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert _ticked(html, "nature") == {"availability"}
    assert _ticked(html, "tenants") == {slug}
