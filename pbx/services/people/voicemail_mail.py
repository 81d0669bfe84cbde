"""A new voicemail message by e-mail through the outbox, as the box's owner chose: the
audio attached (the blob is named, the mailer attaches it when sending) or a link to the
site's voicemail page (behind sign-in: the e-mail itself opens nothing). Swedish first with
an English copy, like every outbox message."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage.models import OutboxMessage, User, VoicemailBox, VoicemailMessage

LOCAL = ZoneInfo("Europe/Stockholm")
LINK_PATH = "/my/voicemail/"
SUBJECT = "Nytt röstmeddelande från {caller} / New voicemail from {caller}"
BODY = (
    "Du har fått ett röstmeddelande från {caller} {when} ({seconds} s).\n"
    "You have a new voicemail message from {caller} {when} ({seconds} s).\n"
)
ATTACHED = "Meddelandet ligger som bilaga.\nThe message is attached."
LOST = (
    "Inspelningen kunde inte sparas: ring upp {caller}.\n"
    "The recording could not be kept: call {caller} back."
)
LINKED = "Lyssna på det här (logga in först):\nListen to it here (sign in first):"


def queue_notice(
    session: Session, box: VoicemailBox, message: VoicemailMessage
) -> OutboxMessage | None:
    """Queue the e-mail for a new message when the box asks for one; None otherwise."""
    user = session.get(User, box.user_id)
    if box.email_notify not in ("attach", "link") or user is None or user.status != "active":
        return None
    received = message.received_at
    if received.tzinfo is None:  # SQLite hands back naive UTC
        received = received.replace(tzinfo=UTC)
    when = received.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    caller, seconds = message.caller, round(message.duration_ms / 1000)
    body = BODY.format(caller=caller, when=when, seconds=seconds)
    attach = box.email_notify == "attach" and message.blob_sha256 is not None
    if message.blob_sha256 is None:
        body += LOST.format(caller=caller)
    elif attach:
        body += ATTACHED
    else:
        body += LINKED
    row = OutboxMessage(
        tenant_id=user.tenant_id, user_id=user.id, to_address=user.email,
        kind="voicemail", subject=SUBJECT.format(caller=caller), body=body,
        created_at=message.received_at,
        attachment_sha256=message.blob_sha256 if attach else None,
        attachment_name=f"rostmeddelande-{message.id}.wav" if attach else None,
        link_path=LINK_PATH if not attach and message.blob_sha256 else None,
    )  # fmt: skip
    session.add(row)
    return row
