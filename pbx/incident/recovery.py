"""The recovery dashboard after media loss (the second notice), per company.

What was lost comes from the media scan taken when the loss was found (the baseline, kept
with the company's part of the incident); what became of each item comes from the media
versions' sources and the blob store now:
- restored — the same audio is back (blob written back from a backup) or a version with
  source `restore` was added;
- regenerated — a version made by text-to-speech (`tts`);
- re-recorded — recorded by phone or uploaded (`phone`, `upload`), or a new picture;
- still missing — nothing playable yet.

Without a baseline the dashboard falls back to what can still be seen: items missing now,
and slots whose current version is newer than `since` while the version before it is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services.library import slots as slot_service
from pbx.services.library.scan import scan_media
from pbx.services.people import pictures
from storage.blobs import BlobStore
from storage.models import (
    Incident,
    IncidentCompany,
    MediaVersion,
    MessageSlot,
    Tenant,
    User,
    VoicemailMessage,
    utcnow,
)

KINDS = ("welcome", "ivr", "queue", "hold", "greeting", "other", "voicemail", "picture")
OUTCOMES = ("restored", "regenerated", "rerecorded", "missing")
SOURCE_OUTCOME = {"restore": "restored", "tts": "regenerated", "phone": "rerecorded",
                  "upload": "rerecorded", "demo": "restored"}  # fmt: skip


@dataclass(frozen=True)
class LostItem:
    kind: str  # one of KINDS
    owner: str  # "slot", "voicemail_message" or "picture"
    owner_id: int  # slot id, message id, or the user id for a picture
    label: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class KindRow:
    kind: str
    lost: int = 0
    restored: int = 0
    regenerated: int = 0
    rerecorded: int = 0
    missing: int = 0


@dataclass
class Dashboard:
    tenant_id: int
    since: datetime
    from_baseline: bool
    rows: list[KindRow] = field(default_factory=list)
    still_missing: list[LostItem] = field(default_factory=list)

    @property
    def total(self) -> KindRow:
        total = KindRow("total")
        for row in self.rows:
            for name in ("lost", *OUTCOMES):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id, "since": self.since.isoformat(),
            "from_baseline": self.from_baseline,
            "rows": [vars(r) for r in [*self.rows, self.total]],
            "still_missing": [i.as_dict() for i in self.still_missing],
        }  # fmt: skip


def baseline(session: Session, blobs: BlobStore, tenant: Tenant) -> dict[str, Any]:
    """Scan the company now and keep what is missing (in use now, not deleted)."""
    report = scan_media(session, blobs, tenant_id=tenant.id)
    items: dict[tuple[str, int], LostItem] = {}
    for problem in report.problems:
        if problem.deleted or not problem.current or problem.role != "master":
            continue
        item = _item(session, problem.owner, problem.owner_id, problem.slot_id, problem.user_id)
        if item is not None:
            items[(item.owner, item.owner_id)] = item
    return {"items": [i.as_dict() for i in items.values()]}


def _item(
    session: Session, owner: str, owner_id: int, slot_id: int | None, user_id: int | None
) -> LostItem | None:
    if owner == "slot_version" and slot_id is not None:
        slot = session.get(MessageSlot, slot_id)
        if slot is None:
            return None
        return LostItem(slot.kind if slot.kind in KINDS else "other", "slot", slot.id, slot.name)
    user = session.get(User, user_id) if user_id is not None else None
    name = user.name if user else f"user {user_id}"
    if owner == "voicemail_message":
        return LostItem("voicemail", "voicemail_message", owner_id, name)
    if owner == "profile_picture" and user is not None:
        return LostItem("picture", "picture", user.id, name)
    return None


def dashboard(
    session: Session,
    blobs: BlobStore,
    tenant: Tenant,
    since: datetime,
    lost: list[dict[str, Any]] | None = None,
) -> Dashboard:
    """Per kind: lost, restored, regenerated, re-recorded, still missing."""
    items = (
        [LostItem(**i) for i in lost]
        if lost is not None
        else _seen_lost(session, blobs, tenant, since)
    )
    board = Dashboard(tenant.id, since, lost is not None)
    rows = {kind: KindRow(kind) for kind in KINDS}
    for item in items:
        result = outcome(session, blobs, item, since)
        if result is None:
            continue
        row = rows[item.kind]
        row.lost += 1
        setattr(row, result, getattr(row, result) + 1)
        if result == "missing":
            board.still_missing.append(item)
    board.rows = list(rows.values())
    return board


def outcome(session: Session, blobs: BlobStore, item: LostItem, since: datetime) -> str | None:
    """What became of one lost item (None: it no longer exists, e.g. a deleted message)."""
    if item.owner == "slot":
        slot = session.get(MessageSlot, item.owner_id)
        if slot is None or slot.deleted_at is not None:
            return None
        if slot_service.audio_status(session, blobs, slot) != "ok":
            return "missing"
        version = slot_service.current_version(session, slot)
        if version is not None and version.created_at >= since:
            return SOURCE_OUTCOME.get(version.source, "rerecorded")
        return "restored"
    if item.owner == "voicemail_message":
        message = session.get(VoicemailMessage, item.owner_id)
        if message is None or message.deleted_at is not None:
            return None
        ok = message.blob_sha256 and blobs.status(message.blob_sha256) == "ok"
        return "restored" if ok else "missing"
    current = pictures.current_picture(session, item.owner_id)
    if current is None or blobs.status(current.blob_sha256) != "ok":
        return "missing"
    return "rerecorded" if current.created_at >= since else "restored"


def _seen_lost(
    session: Session, blobs: BlobStore, tenant: Tenant, since: datetime
) -> list[LostItem]:
    """No baseline: what is missing now, plus slots re-made since `since` whose previous
    audio is gone."""
    found = {
        (i["owner"], i["owner_id"]): LostItem(**i)
        for i in baseline(session, blobs, tenant)["items"]
    }
    for slot in slot_service.list_slots(session, tenant.id):
        current = slot_service.current_version(session, slot)
        if current is None or current.created_at < since or (("slot", slot.id) in found):
            continue
        before = session.scalar(
            select(MediaVersion)
            .where(MediaVersion.slot_id == slot.id, MediaVersion.id < current.id)
            .order_by(MediaVersion.id.desc())
            .limit(1)
        )
        if before is not None and blobs.status(before.blob_sha256) != "ok":
            kind = slot.kind if slot.kind in KINDS else "other"
            found[("slot", slot.id)] = LostItem(kind, "slot", slot.id, slot.name)
    return list(found.values())


def store_baseline(session: Session, blobs: BlobStore, part: IncidentCompany) -> dict[str, Any]:
    """Scan the company of an incident's part and keep what is missing now on that part."""
    tenant = session.get(Tenant, part.tenant_id)
    assert tenant is not None
    found = baseline(session, blobs, tenant)
    part.media_baseline = {"scanned_at": utcnow().isoformat(), **found}
    session.flush()
    return part.media_baseline


def dashboard_for(session: Session, blobs: BlobStore, part: IncidentCompany) -> Dashboard:
    """The dashboard of an incident's company: from its baseline when one was taken, else
    from what can be seen since the incident was discovered."""
    tenant = session.get(Tenant, part.tenant_id)
    assert tenant is not None
    if part.media_baseline:
        since = datetime.fromisoformat(part.media_baseline["scanned_at"])
        return dashboard(session, blobs, tenant, since, part.media_baseline["items"])
    incident = session.get(Incident, part.incident_id)
    assert incident is not None
    return dashboard(session, blobs, tenant, incident.discovered_at)
