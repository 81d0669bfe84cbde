"""The media integrity scan: is every recorded message, voicemail and picture still there?

Re-reads and re-hashes every blob a row refers to (message-slot versions, received
voicemail, personal greetings — which are slots — and profile pictures) and reports, per
company, each one that is missing or corrupt together with where it is used: the slot's
name and its placements (numbers, IVR menus, queues, mailboxes), so a re-recording lands in
the right place. The library page's red crosses come from `slot_statuses`.

Streams the references in blob order and checks each blob once; memory holds only the
problems found.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from pbx.services.common.progress import Progress, no_progress
from pbx.services.library import slots as slot_service
from storage.backups.references import BlobRef, count_references, iter_references, tenants_of
from storage.blobs import STALE_TEMP_SECONDS, BlobStore, FileBlobStore
from storage.models import MessageSlot, User

OPERATORS = {"id": None, "slug": "(operators)", "name": "Operator staff"}


@dataclass(frozen=True)
class MediaProblem:
    status: str  # "missing" or "corrupt"
    sha256: str
    owner: str  # slot_version, voicemail_message, profile_picture
    owner_id: int
    role: str  # master or original
    current: bool  # in use now (the slot's current version, the newest picture, …)
    deleted: bool
    where: str  # one line naming the company, slot or user
    slot_id: int | None = None
    slot_name: str | None = None
    user_id: int | None = None
    placements: tuple[str, ...] = ()


@dataclass
class CompanyScan:
    tenant_id: int | None
    slug: str
    name: str
    references: int = 0
    problems: list[MediaProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass
class ScanReport:
    companies: list[CompanyScan]
    blobs_checked: int = 0
    references: int = 0
    temp_files_removed: int = 0  # leftovers of killed writers (see `sweep_leftovers`)

    @property
    def problems(self) -> list[MediaProblem]:
        return [p for c in self.companies for p in c.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "blobs_checked": self.blobs_checked,
            "references": self.references,
            "temp_files_removed": self.temp_files_removed,
            "missing": sum(p.status == "missing" for p in self.problems),
            "corrupt": sum(p.status == "corrupt" for p in self.problems),
            "companies": [c.as_dict() for c in self.companies],
        }


def blob_status(blobs: BlobStore, sha256: str) -> str:
    """`blobs.status(sha256)`; kept for `pbx.services.calls` until it calls the store."""
    return blobs.status(sha256)


def scan_media(
    session: Session,
    blobs: BlobStore,
    *,
    tenant_id: int | None = None,
    progress: Progress = no_progress,
) -> ScanReport:
    """Check every referenced blob (of one company, or all) and report what is wrong."""
    companies = _companies(session, tenant_id)
    report = ScanReport(list(companies.values()), temp_files_removed=sweep_leftovers(blobs))
    with progress("scanning media", count_references(session, tenant_id)) as advance:
        for sha, group in groupby(iter_references(session, tenant_id), attrgetter("sha256")):
            refs = list(group)
            status = blobs.status(sha)
            report.blobs_checked += 1
            report.references += len(refs)
            for ref in refs:
                company = companies[ref.tenant_id]
                company.references += 1
                if status != "ok":
                    company.problems.append(problem(session, ref, status, company.slug))
            advance(len(refs))
    return report


def sweep_leftovers(blobs: BlobStore) -> int:
    """Remove the temp files killed writers (an upload, a restore) left in a file store, once
    they are older than any running writer; how many. Other stores leave none."""
    if isinstance(blobs, FileBlobStore):
        return blobs.sweep_temp(older_than=STALE_TEMP_SECONDS)
    return 0


def _companies(session: Session, tenant_id: int | None) -> dict[int | None, CompanyScan]:
    rows = [t for t in tenants_of(session) if tenant_id is None or t["id"] == tenant_id]
    if tenant_id is None:
        rows.append(OPERATORS)
    return {t["id"]: CompanyScan(t["id"], t["slug"], t["name"]) for t in rows}


def problem(session: Session, ref: BlobRef, status: str, company: str) -> MediaProblem:
    return MediaProblem(
        status=status,
        sha256=ref.sha256,
        owner=ref.owner,
        owner_id=ref.owner_id,
        role=ref.role,
        current=ref.current,
        deleted=ref.deleted,
        where=describe(ref, company, _user_name(session, ref.user_id)),
        slot_id=ref.slot_id,
        slot_name=ref.slot_name,
        user_id=ref.user_id,
        placements=placements_of(session, ref.slot_id),
    )


def describe(ref: BlobRef, company: str, user_name: str | None = None) -> str:
    """One line saying which company and which slot, mailbox or user uses a blob."""
    who = f"user {ref.user_id}" + (f" ({user_name})" if user_name else "")
    if ref.owner == "slot_version":
        age = "current" if ref.current else "older"
        what = f"slot {ref.slot_id} '{ref.slot_name}' ({age} version {ref.owner_id}"
        what += ", original upload)" if ref.role == "original" else ")"
    elif ref.owner == "voicemail_message":
        what = f"voicemail message {ref.owner_id} in the mailbox of {who}"
    else:
        what = f"profile picture {ref.owner_id} of {who}"
        what += " (original upload)" if ref.role == "original" else ""
    return f"company {company}: {what}" + (" [deleted]" if ref.deleted else "")


def _user_name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else None


def placements_of(session: Session, slot_id: int | None) -> tuple[str, ...]:
    """Where a slot is placed, as short labels ("number +468…", "ivr_prompt Huvudmeny")."""
    slot = session.get(MessageSlot, slot_id) if slot_id is not None else None
    if slot is None:
        return ()
    labels = []
    for placement in slot_service.placements(session, slot):
        label = placement.label
        if placement.kind == "mailbox":
            label = _mailbox_label(session, placement.label)
        labels.append(f"{placement.kind} {label}")
    return tuple(labels)


def _mailbox_label(session: Session, user_id: str) -> str:
    name = _user_name(session, int(user_id)) if user_id.isdigit() else None
    return f"of {name}" if name else f"of user {user_id}"


def slot_statuses(session: Session, blobs: BlobStore, tenant_id: int) -> dict[int, str]:
    """Each live slot of a company → 'ok', 'missing' or 'corrupt' (its current audio)."""
    return {
        slot.id: slot_service.audio_status(session, blobs, slot)
        for slot in slot_service.list_slots(session, tenant_id)
    }
