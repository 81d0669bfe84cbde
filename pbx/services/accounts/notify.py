"""Messages to account owners through the outbox (SECURITY.md 17): after every credential
change, so a takeover does not go unnoticed, and the setup/reset links themselves.

Texts are Swedish first with an English copy: the message goes out before we know which
language the person reads, and the product is Swedish.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import OutboxMessage, User

_CHECK = (
    "Om det inte var du: kontakta din administratör direkt.\n"
    "If this was not you: contact your administrator at once."
)

TEXTS: dict[str, tuple[str, str]] = {
    "password_changed": (
        "Ditt lösenord har ändrats / Your password was changed",
        "Lösenordet till ditt konto i växeln ändrades {when}. Alla inloggningar har loggats ut.\n"
        "The password of your switchboard account was changed {when}. "
        "Every session was signed out.",
    ),
    "totp_enrolled": (
        "Ny tvåstegsverifiering / New two-factor authenticator",
        "En ny autentiseringsapp kopplades till ditt konto {when}.\n"
        "A new authenticator app was linked to your account {when}.",
    ),
    "totp_disabled": (
        "Tvåstegsverifiering avstängd / Two-factor authentication turned off",
        "Tvåstegsverifieringen för ditt konto stängdes av {when}.\n"
        "Two-factor authentication was turned off for your account {when}.",
    ),
    "recovery_codes_renewed": (
        "Nya reservkoder / New recovery codes",
        "Nya reservkoder skapades för ditt konto {when}; de gamla gäller inte längre.\n"
        "New recovery codes were made for your account {when}; the old ones no longer work.",
    ),
    "recovery_code_used": (
        "Reservkod använd / Recovery code used",
        "En reservkod användes för att logga in på ditt konto {when}.\n"
        "A recovery code was used to sign in to your account {when}.",
    ),
    "signed_out_everywhere": (
        "Utloggad överallt / Signed out everywhere",
        "Alla inloggningar på ditt konto avslutades {when}.\n"
        "Every session of your account was ended {when}.",
    ),
    "phone_credentials": (
        "Nya uppgifter för din telefon / New phone credentials",
        "Nya SIP-uppgifter för din telefon skapades {when}; de gamla gäller inte längre och "
        "telefoner som använde dem måste ställas in igen.\n"
        "New SIP credentials for your phone were made {when}; the old ones no longer work and "
        "phones that used them must be set up again.",
    ),
    "mobile_changed": (
        "Ditt mobilnummer har ändrats / Your mobile number was changed",
        "Mobilnumret för ditt konto i växeln ändrades {when}. Röstbrevlådan (333) och "
        "uppringning för inspelning använder det numret.\n"
        "The mobile number of your switchboard account was changed {when}. The voicemail "
        "service (333) and record-by-phone calls use that number.",
    ),
    "voicemail_pin_changed": (
        "Din röstbrevlådekod har ändrats / Your voicemail PIN was changed",
        "Koden till din röstbrevlåda (333) ändrades {when}.\n"
        "The PIN of your voicemail box (333) was changed {when}.",
    ),
    "voicemail_pin_reset": (
        "Din röstbrevlådekod har nollställts / Your voicemail PIN was reset",
        "En administratör nollställde koden till din röstbrevlåda (333) {when}. Välj en ny "
        "under Mina inställningar / Röstbrevlåda.\n"
        "An administrator reset the PIN of your voicemail box (333) {when}. Choose a new one "
        "under My settings / Voicemail.",
    ),
    "suspended": (
        "Kontot är avstängt / Account suspended",
        "Ditt konto i växeln stängdes av {when}.\nYour switchboard account was suspended {when}.",
    ),
    "locked": (
        "Kontot är låst / Account locked",
        "Ditt konto låstes {when} efter för många misslyckade inloggningsförsök. "
        "En administratör eller en lösenordsåterställning låser upp det.\n"
        "Your account was locked {when} after too many failed sign-in attempts. "
        "An administrator or a password reset unlocks it.",
    ),
}

LINK_TEXTS: dict[str, tuple[str, str]] = {
    "setup": (
        "Välkommen till växeln / Welcome to the switchboard",
        "Välj ditt lösenord här (länken fungerar en gång, till {expires}):\n"
        "Choose your password here (the link works once, until {expires}):\n{link}",
    ),
    "reset": (
        "Välj ett nytt lösenord / Choose a new password",
        "Ditt lösenord har återställts. Välj ett nytt här (länken fungerar en gång, till "
        "{expires}):\nYour password was reset. Choose a new one here (the link works once, "
        "until {expires}):\n{link}",
    ),
}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def owner(session: Session, user: User, kind: str, now: datetime) -> OutboxMessage:
    """Tell the account's owner that something happened to their credentials."""
    subject, body = TEXTS[kind]
    text = body.format(when=_stamp(now)) + ("\n\n" + _CHECK if kind != "locked" else "")
    return _queue(session, user, kind, subject, text, now)


def link(
    session: Session, user: User, purpose: str, url: str, expires: datetime, now: datetime
) -> OutboxMessage:
    subject, body = LINK_TEXTS[purpose]
    text = body.format(link=url, expires=_stamp(expires))
    return _queue(session, user, f"{purpose}_link", subject, text, now)


def _queue(
    session: Session, user: User, kind: str, subject: str, body: str, now: datetime
) -> OutboxMessage:
    message = OutboxMessage(
        tenant_id=user.tenant_id,
        user_id=user.id,
        to_address=user.email,
        kind=kind,
        subject=subject,
        body=body,
        created_at=now,
    )
    session.add(message)
    return message
