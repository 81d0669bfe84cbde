"""The voicemail PIN: how a caller proves the mailbox is theirs when they call 333 from a
number the switchboard does not know (or when the company asks for it every time).

Stored as an Argon2id hash like a password; the engine never sees it (it asks through a
`VerifyPin` action and is told the answer), and a trace shows PIN keys only as dots.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from pbx.errors import ValidationError
from pbx.security.hashing import PRODUCTION_PROFILE, HashProfile, hash_password, verify_password
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.people import voicemail
from storage.models import User, VoicemailBox

_PIN = re.compile(r"[0-9]{4,8}")


def set_pin(
    session: Session,
    actor: Actor,
    user: User,
    pin: str,
    profile: HashProfile = PRODUCTION_PROFILE,
) -> None:
    """Set the user's voicemail PIN (4–8 digits); the user or their company's admins."""
    actor.require_self_or_admin(user.id, user.tenant_id)
    if not isinstance(pin, str) or not _PIN.fullmatch(pin):
        raise ValidationError("pin", "The PIN must be 4 to 8 digits.", code="invalid_pin")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise ValidationError("pin", "Choose a PIN that is not a repeated or running digit row.")
    box = voicemail.box_of(session, user)
    box.pin_hash = hash_password(pin, profile)
    session.flush()
    audit.record(
        session, actor, "voicemail.pin", tenant_id=user.tenant_id, target=("user", user.id)
    )


def check_pin(session: Session, box_id: str, pin: str) -> bool:
    """Whether `pin` opens the box `box_id` (the engine's id, `str(voicemail_boxes.id)`).
    A box without a PIN cannot be opened from an unknown number."""
    box = session.get(VoicemailBox, int(box_id)) if box_id.isdigit() else None
    if box is None or not box.pin_hash or not pin:
        return False
    return verify_password(box.pin_hash, pin)
