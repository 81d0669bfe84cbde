"""Letters to the public (issue 16 item 11): "Skicka brevet till varje uppringare" first shows
the letter as a caller reads it and how many go out; only the confirmation queues them."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from pbx.incident import letters
from storage.models import OutboxMessage
from tests.web.conftest import AuthActions
from tests.web.test_incident_pages import Site, post, sign_in
from tests.web.test_incident_pages import site as site  # noqa: F401  (the fixture)

PAGE = "/operator/affected-callers"


def queued(app: Flask) -> int:
    with app.extensions["pbx"].unit_of_work() as s:
        stmt = select(func.count()).where(OutboxMessage.kind == letters.KIND)
        return int(s.scalar(stmt) or 0)


def test_the_letter_is_previewed_and_confirmed_with_the_count(
    app: Flask, auth: AuthActions, site: Site
) -> None:
    client = sign_in(auth, site.operator, reauth=True)
    day = site.world.day()
    form = {"tenants": [site.world.tenant.slug], "since": day, "until": day}

    shown = post(client, f"{PAGE}/letters", form, PAGE)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and queued(app) == 0
    body = html[html.index('id="letter-body"') : html.index("</pre>")]
    assert "Säkerhetsinformation" in html and "+46" in body
    assert site.world.tenant.name not in body and site.world.number not in body
    assert "Brevet går till 20 uppringare" in html and "Skicka 20 brev" in html

    sent = post(client, f"{PAGE}/letters", {**form, "confirm": "yes"}, PAGE)
    assert sent.status_code == 302 and queued(app) == 20

    again = post(client, f"{PAGE}/letters", form, PAGE).get_data(as_text=True)
    assert "20 uppringare har redan fått brevet" in again
    assert "Det finns ingen att skicka brevet till" in again and 'id="send-letters"' not in again
