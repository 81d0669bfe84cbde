"""The authenticator secret on offer during enrolment, carried encrypted in the browser
session so a reload shows the same QR code (the secret is never in the cookie in clear)."""

from __future__ import annotations

from flask import session

from pbx.services.accounts import totp as accounts_totp
from pbx.services.accounts.core import AccountsConfig
from storage.models import User

KEY = "enrol_offer"


def current_offer(config: AccountsConfig, user: User) -> accounts_totp.Enrolment:
    sealed = session.get(KEY)
    if isinstance(sealed, str):
        try:
            return accounts_totp.offer(user, accounts_totp.open_offer(config, user, sealed))
        except accounts_totp.WrongCode:
            pass
    offer = accounts_totp.offer(user)
    session[KEY] = accounts_totp.seal_offer(config, user, offer.secret)
    return offer
