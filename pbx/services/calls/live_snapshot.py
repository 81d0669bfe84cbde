"""The dialplan snapshot a live call with one person needs: the callback towards them or their
call to 333. It holds that person (extension, registered number, voicemail box with greeting
and unheard messages), the slot being recorded, the company's destination policy and the
system prompts (`system_prompts`, always playable).

Slots are marked playable only when their audio really is in the store (hash checked), so a
lost greeting is played as "missing" with the default greeting after it, as in any call.
This is deliberately the small snapshot of these two call kinds; inbound calls and the test
call use the engine integration's full builder (numbers, menus, queues).
"""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.engine import dialplan as dp
from pbx.policies.destinations import DestinationPolicy
from pbx.services.library import slots as slot_service
from pbx.services.library import system_prompts
from pbx.services.library.scan import blob_status
from storage.blobs import BlobStore
from storage.models import MessageSlot, Tenant, User, VoicemailBox, VoicemailMessage

VOICEMAIL_PREFIX = "vm:"


def live_snapshot(
    session: Session, blobs: BlobStore, tenant: Tenant, user: User, slot: MessageSlot | None
) -> dp.DialplanSnapshot:
    slots = [_prompt(name) for name in system_prompts.PROMPTS]
    if slot is not None:
        slots.append(_slot(session, blobs, slot))
    person, more = _person(session, blobs, user)
    return dp.DialplanSnapshot(
        tenant_id=str(tenant.id),
        users=(person,) if person is not None else (),
        slots=tuple(slots + more),
        policy=DestinationPolicy(tenant.home_region, frozenset(tenant.allowed_countries or ())),
        prompts=_prompts(),
    )


def _prompts() -> dp.SystemPrompts:
    names = [f.name for f in fields(dp.SystemPrompts)]
    ids: dict[str, str | None] = {
        n: system_prompts.slot_id(n) for n in names if n in system_prompts.PROMPTS
    }
    return dp.SystemPrompts(**ids)  # type: ignore[arg-type]  # the prompts named by a str


def _prompt(name: str) -> dp.MessageSlot:
    return dp.MessageSlot(system_prompts.slot_id(name), name, "system", True)


def _slot(session: Session, blobs: BlobStore, slot: MessageSlot) -> dp.MessageSlot:
    ok = slot_service.audio_status(session, blobs, slot) == "ok"
    kind: dp.SlotKind = "greeting" if slot.kind == "greeting" else "welcome"
    return dp.MessageSlot(str(slot.id), slot.name, kind, ok)


def _person(
    session: Session, blobs: BlobStore, user: User
) -> tuple[dp.User | None, list[dp.MessageSlot]]:
    """The user as the engine sees them, and the slots their mailbox plays."""
    if not user.extension:
        return None, []
    box = session.scalar(select(VoicemailBox).where(VoicemailBox.user_id == user.id))
    if box is None:
        return dp.User(str(user.id), user.extension, user.name, user.mobile), []
    more = []
    greeting = session.get(MessageSlot, box.greeting_slot_id) if box.greeting_slot_id else None
    if greeting is not None:
        more.append(_slot(session, blobs, greeting))
    unheard = _unheard(session, blobs, box)
    more += unheard
    mailbox = dp.VoicemailBox(
        str(box.id),
        str(greeting.id) if greeting is not None else None,
        tuple(s.slot_id for s in unheard),
    )
    return dp.User(str(user.id), user.extension, user.name, user.mobile, voicemail=mailbox), more


def _unheard(session: Session, blobs: BlobStore, box: VoicemailBox) -> list[dp.MessageSlot]:
    stmt = (
        select(VoicemailMessage)
        .where(VoicemailMessage.box_id == box.id, VoicemailMessage.deleted_at.is_(None))
        .where(VoicemailMessage.heard.is_(False))
        .order_by(VoicemailMessage.received_at)
    )
    return [
        dp.MessageSlot(
            f"{VOICEMAIL_PREFIX}{m.id}",
            m.caller,
            "voicemail_message",
            bool(m.blob_sha256) and blob_status(blobs, m.blob_sha256 or "") == "ok",
        )
        for m in session.scalars(stmt)
    ]
