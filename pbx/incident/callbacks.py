"""Lost voicemail call-back lists (the second notice: "a company may not learn of a
cancellation"). A received voicemail message keeps its row — caller and time — when its
audio is lost, so each user can call those people back.

Who sees what: the operator any company's list, a company admin their company's, a user
their own messages only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.errors import PermissionDenied
from pbx.incident.callers import local
from pbx.policies import spreadsheet
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from storage.blobs import BlobStore
from storage.models import Tenant, User, VoicemailBox, VoicemailMessage

CSV_HEADER = ("user", "extension", "caller", "received", "seconds", "heard")


@dataclass(frozen=True)
class CallBack:
    user_id: int
    user_name: str
    extension: str
    caller: str
    received_at: datetime
    seconds: int
    heard: bool
    status: str  # "missing" or "corrupt"


def lost_voicemail(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    tenant: Tenant,
    *,
    user_id: int | None = None,
    since: datetime | None = None,
) -> list[CallBack]:
    """Voicemail messages whose audio is gone, by user and time (newest first per user)."""
    user_id = _scope(actor, tenant, user_id)
    stmt = (
        select(VoicemailMessage, User)
        .join(VoicemailBox, VoicemailBox.id == VoicemailMessage.box_id)
        .join(User, User.id == VoicemailBox.user_id)
        .where(User.tenant_id == tenant.id, VoicemailMessage.deleted_at.is_(None))
        .order_by(User.name, VoicemailMessage.received_at.desc())
    )
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    if since is not None:
        stmt = stmt.where(VoicemailMessage.received_at >= since)
    found = []
    for message, user in session.execute(stmt):
        status = blobs.status(message.blob_sha256) if message.blob_sha256 else "missing"
        if status != "ok":
            found.append(_row(message, user, status))
    return found


def _scope(actor: Actor, tenant: Tenant, user_id: int | None) -> int | None:
    if actor.can_manage_tenant(tenant.id):
        return user_id
    if actor.tenant_id == tenant.id and actor.user_id is not None:
        if user_id not in (None, actor.user_id):
            raise PermissionDenied("you see only your own voicemail")
        return actor.user_id
    raise PermissionDenied("not a member of this company")


def _row(message: VoicemailMessage, user: User, status: str) -> CallBack:
    return CallBack(
        user_id=user.id,
        user_name=user.name,
        extension=user.extension or "",
        caller=message.caller,
        received_at=message.received_at,
        seconds=round(message.duration_ms / 1000),
        heard=message.heard,
        status=status,
    )


def by_user(rows: Iterable[CallBack]) -> dict[str, list[CallBack]]:
    """Rows grouped under "Name (extension)", in the list's order."""
    groups: dict[str, list[CallBack]] = {}
    for row in rows:
        groups.setdefault(f"{row.user_name} ({row.extension or '-'})", []).append(row)
    return groups


def to_csv(rows: Iterable[CallBack]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(spreadsheet.row(
            (r.user_name, r.extension, r.caller, local(r.received_at), r.seconds,
             "yes" if r.heard else "no")
        ))  # fmt: skip
    return out.getvalue()


def export(
    session: Session, blobs: BlobStore, actor: Actor, tenant: Tenant, user_id: int | None = None
) -> str:
    """The list as CSV (callers' numbers in full, so the export is audited)."""
    rows = lost_voicemail(session, blobs, actor, tenant, user_id=user_id)
    audit.record(
        session, actor, "incident.callback_list_export", tenant_id=tenant.id,
        new={"rows": len(rows), "user_id": user_id},
    )  # fmt: skip
    return to_csv(rows)
