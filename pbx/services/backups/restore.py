"""Restore into the live switchboard: one company, one message, or only what is missing.

Nothing live is ever deleted or overwritten:
- a blob is written back only when the live store lacks it (or holds a copy that fails its
  hash), byte-identical, verified against the backup on the way;
- a slot whose current audio differs from the backup's gets a NEW version with source
  "restore" (`slots.add_version`), so the restore itself can be rolled back;
- voicemail messages and pictures keep their rows; only their missing bytes come back.

A blob that fails its hash in the backup is refused (named in the report), never written.
These functions work in the caller's session and never commit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pbx.errors import PbxError
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor
from pbx.services.common.progress import Progress, no_progress
from pbx.services.library import slots as slot_service
from pbx.services.library.scan import describe
from storage.backups.manifest import BlobEntry, iter_entries
from storage.backups.references import BlobRef
from storage.backups.store import BackupSet
from storage.blobs import BlobError, BlobStore
from storage.models import MessageSlot


class RestoreRefused(PbxError):
    code = "restore_refused"


@dataclass(frozen=True)
class Selection:
    """What to restore: everything, one company, or one message slot."""

    tenant_id: int | None = None
    slot_id: int | None = None

    def wants(self, ref: BlobRef) -> bool:
        if self.slot_id is not None:
            return ref.slot_id == self.slot_id
        return self.tenant_id is None or ref.tenant_id == self.tenant_id


@dataclass
class RestoreReport:
    backup_id: str
    scope: str
    missing_only: bool
    blobs_checked: int = 0
    blobs_restored: int = 0
    bytes_restored: int = 0
    versions_added: list[dict[str, Any]] = field(default_factory=list)
    slots_unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass
class _Picks:
    masters: dict[int, BlobRef] = field(default_factory=dict)  # by slot id
    originals: dict[int, BlobRef] = field(default_factory=dict)  # by version id


def restore_media(
    session: Session,
    live_blobs: BlobStore,
    actor: Actor,
    backup: BackupSet,
    selection: Selection = Selection(),
    *,
    missing_only: bool = False,
    progress: Progress = no_progress,
) -> RestoreReport:
    """Bring back what `selection` covers; with `missing_only`, only blobs the live store
    lacks (the remedy for incident 2), otherwise also each slot's backed-up audio."""
    with backup.reading():
        return _restore_media(session, live_blobs, actor, backup, selection, missing_only, progress)


def _restore_media(
    session: Session,
    live_blobs: BlobStore,
    actor: Actor,
    backup: BackupSet,
    selection: Selection,
    missing_only: bool,
    progress: Progress,
) -> RestoreReport:
    backup.check_entries()
    report = RestoreReport(backup.backup_id, _scope(backup, selection), missing_only)
    slugs = {t["id"]: t["slug"] for t in backup.manifest.tenants}
    picks = _Picks()
    with progress("restoring media", backup.manifest.counts.blobs) as advance:
        for entry in iter_entries(backup.entries_path):
            refs = [r for r in entry.refs if selection.wants(r)]
            if refs:
                _bring_back(live_blobs, backup, entry, refs, report, slugs)
                _collect_picks(refs, picks)
            advance(1)
    if selection.slot_id is not None and not picks.masters:
        raise RestoreRefused(
            f"backup {backup.backup_id} holds no audio for slot {selection.slot_id}"
        )
    if not missing_only:
        for _, master in sorted(picks.masters.items()):
            original = picks.originals.get(master.owner_id)
            _restore_slot(session, live_blobs, actor, backup, (master, original), report)
    _audit(session, actor, backup, selection, report)
    return report


def _scope(backup: BackupSet, selection: Selection) -> str:
    if selection.slot_id is not None:
        return f"slot {selection.slot_id}"
    if selection.tenant_id is None:
        return "all companies"
    slugs = {t["id"]: t["slug"] for t in backup.manifest.tenants}
    if selection.tenant_id not in slugs:
        raise RestoreRefused(f"backup {backup.backup_id} holds no company {selection.tenant_id}")
    return f"company {slugs[selection.tenant_id]}"


def _bring_back(
    live_blobs: BlobStore,
    backup: BackupSet,
    entry: BlobEntry,
    refs: list[BlobRef],
    report: RestoreReport,
    slugs: dict[Any, Any],
) -> None:
    report.blobs_checked += 1
    status = live_blobs.status(entry.sha256)
    if status == "ok":
        return
    data = _from_backup(backup, entry.sha256, refs, report, slugs)
    if data is None:
        return
    live_blobs.put(data)  # every store's put repairs a corrupt copy under the same hash
    report.blobs_restored += 1
    report.bytes_restored += len(data)


def _from_backup(
    backup: BackupSet,
    sha: str,
    refs: list[BlobRef],
    report: RestoreReport,
    slugs: dict[Any, Any],
) -> bytes | None:
    try:
        return backup.blobs.get(sha)  # verified: a corrupt backup copy is refused
    except BlobError as exc:
        used = "; ".join(describe(r, slugs.get(r.tenant_id, "(operators)")) for r in refs)
        report.refused.append(f"{exc} in backup {backup.backup_id}; not restored — used by {used}")
        return None


def _collect_picks(refs: list[BlobRef], picks: _Picks) -> None:
    """Remember the backup's current version of each slot: its master and its original
    (they are different blobs, so they arrive in different entries)."""
    for ref in refs:
        if ref.owner == "slot_version" and ref.current and ref.slot_id is not None:
            if ref.role == "master":
                picks.masters[ref.slot_id] = ref
            else:
                picks.originals[ref.owner_id] = ref


def _restore_slot(
    session: Session,
    live_blobs: BlobStore,
    actor: Actor,
    backup: BackupSet,
    pick: tuple[BlobRef, BlobRef | None],
    report: RestoreReport,
) -> None:
    master, original_ref = pick
    slot_id, name = master.slot_id, master.slot_name
    slot = session.get(MessageSlot, slot_id)
    if slot is None or slot.deleted_at is not None:
        report.problems.append(f"slot {slot_id} '{name}' no longer exists live; not restored")
        return
    live = slot_service.current_version(session, slot)
    if live is not None and live.blob_sha256 == master.sha256:
        if live_blobs.status(live.blob_sha256) == "ok":
            report.slots_unchanged += 1
            return
    try:
        audio, original = _audio_of(backup, master, original_ref)
    except BlobError as exc:
        report.refused.append(f"{exc} in backup {backup.backup_id}; slot {slot_id} '{name}'")
        return
    version = slot_service.add_version(
        session,
        live_blobs,
        actor,
        slot,
        audio,
        source="restore",
        duration_ms=master.duration_ms or 0,
        original=original,
    )
    report.versions_added.append({"slot_id": slot_id, "slot": name, "version_id": version.id})


def _audio_of(
    backup: BackupSet, master: BlobRef, original: BlobRef | None
) -> tuple[bytes, bytes | None]:
    """A version's master and original upload from the backup, each verified."""
    return backup.blobs.get(master.sha256), backup.blobs.get(original.sha256) if original else None


def _audit(
    session: Session, actor: Actor, backup: BackupSet, selection: Selection, report: RestoreReport
) -> None:
    audit.record(
        session,
        actor,
        "backup.restore",
        tenant_id=selection.tenant_id,
        target=("backup", backup.backup_id),
        new={
            "scope": report.scope,
            "missing_only": report.missing_only,
            "blobs_restored": report.blobs_restored,
            "versions_added": len(report.versions_added),
            "refused": len(report.refused),
        },
    )
