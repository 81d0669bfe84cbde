"""Issue 16 item 12: during the back-off the code step says how long to wait, and the right
code used a second time (a double submit, the code just used to sign in) is refused with its
own message without counting as a failure of the back-off."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import update

from pbx.security.totp import Totp
from storage.models import User, utcnow
from tests.builders import make_tenant
from tests.web.accounts import make_account, totp_code
from tests.web.conftest import AuthActions, csrf_token


def _post(client: FlaskClient, path: str, **data: str):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def _flash(response) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.text))


def _failures(uow, user_id: int) -> int:
    with uow() as s:
        return s.get(User, user_id).failed_logins


def test_code_step_says_how_long_to_wait(app, client: FlaskClient, uow) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
        # Six failures, the last long enough ago that the password may be tried again.
        s.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=6, last_failed_at=utcnow() - timedelta(seconds=10))
        )
    assert _post(client, "/login", email=user.email, password=password).status_code == 302
    wrong = _post(client, "/login/code", code="000000")  # the 7th: wait 4 s
    assert "Inloggningen misslyckades" in _flash(wrong)
    refused = _post(client, "/login/code", code=totp_code(app, user.email, secret))
    assert re.search(r"Vänta [1-4] sekunder? och försök igen", _flash(refused)), _flash(refused)
    assert _failures(uow, user.id) == 7  # refused unchecked, not counted


def test_a_used_code_is_refused_but_not_counted(app, client: FlaskClient, uow) -> None:
    with uow() as s:
        user, password, secret = make_account(s, make_tenant(s), role="company_admin")
    auth = AuthActions(app, client)
    auth.login(user.email, password, secret)
    with uow() as s:
        used = Totp.code_at(secret, s.get(User, user.id).totp_last_step * Totp.INTERVAL)
    auth.logout()
    _post(client, "/login", email=user.email, password=password)
    again = _post(client, "/login/code", code=used)
    assert "Koden har redan använts" in _flash(again) and not auth.signed_in()
    assert _failures(uow, user.id) == 0
    _post(client, "/login/code", code=totp_code(app, user.email, secret))
    assert auth.signed_in()
