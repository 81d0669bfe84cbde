"""A user's voicemail settings (issue 17 item 4): the 333 PIN set and changed by its owner on
the site (the current PIN first, like a password) or reset by the company's admins (the box
then has no PIN until the owner chooses one: an admin never picks it), greeting-only, and
whether a new message is sent by e-mail with the audio attached or a link to the site.

PIN changes are audited (never the PIN) and the owner is told through the outbox
(SECURITY.md 17)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied, ValidationError
from pbx.security.hashing import PRODUCTION_PROFILE, HashProfile, verify_password
from pbx.services.accounts import notify
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.people import voicemail, voicemail_pin
from storage.models import User, utcnow

EMAIL_CHOICES = ("off", "attach", "link")


@dataclass(frozen=True)
class VoicemailSettings:
    has_pin: bool
    greeting_only: bool
    email_notify: str


def settings_of(session: Session, user: User) -> VoicemailSettings:
    box = voicemail.box_of(session, user)
    return VoicemailSettings(box.pin_hash is not None, box.greeting_only, box.email_notify)


def _check(actor: Actor, user: User) -> None:
    actor.require_self_or_admin(user.id, user.tenant_id)


def update(
    session: Session, actor: Actor, user: User, *, greeting_only: bool, email_notify: str
) -> VoicemailSettings:
    """Greeting-only and e-mail on new messages; the owner or their company's admins."""
    _check(actor, user)
    if email_notify not in EMAIL_CHOICES:
        raise ValidationError("email_notify", "choose off, attach or link", code="bad_choice")
    box = voicemail.box_of(session, user)
    old = {"greeting_only": box.greeting_only, "email_notify": box.email_notify}
    new = {"greeting_only": bool(greeting_only), "email_notify": email_notify}
    if old != new:
        box.greeting_only, box.email_notify = bool(greeting_only), email_notify
        session.flush()
        audit.record(
            session, actor, "voicemail.settings", tenant_id=user.tenant_id,
            target=("user", user.id), old=old, new=new,
        )  # fmt: skip
    return settings_of(session, user)


def change_pin(
    session: Session,
    actor: Actor,
    user: User,
    new_pin: str,
    current_pin: str = "",
    profile: HashProfile = PRODUCTION_PROFILE,
) -> None:
    """The owner sets or changes their PIN; a PIN already set must be given first."""
    if actor.user_id is None or actor.user_id != user.id:
        raise PermissionDenied("only the owner chooses a voicemail PIN")
    box = voicemail.box_of(session, user)
    if box.pin_hash is not None and not (
        current_pin and verify_password(box.pin_hash, current_pin)
    ):
        raise ValidationError("current_pin", "The current PIN is wrong.", code="wrong_pin")
    voicemail_pin.set_pin(session, actor, user, new_pin, profile)
    notify.owner(session, user, "voicemail_pin_changed", utcnow())


def reset_pin(session: Session, actor: Actor, user: User) -> None:
    """An admin clears the PIN (a forgotten one); the owner chooses a new one on the site."""
    actor.require_admin(user.tenant_id)
    box = voicemail.box_of(session, user)
    had = box.pin_hash is not None
    box.pin_hash = None
    session.flush()
    audit.record(
        session, actor, "voicemail.pin_reset", tenant_id=user.tenant_id,
        target=("user", user.id), old={"pin": had}, new={"pin": False},
    )  # fmt: skip
    notify.owner(session, user, "voicemail_pin_reset", utcnow())
