"""The newest backup that passes verification, and a missing-only restore from it (the
remedy the operator's media-recovery page offers after the backup fault)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from pbx.services.backups.restore import RestoreReport, Selection, restore_media
from pbx.services.backups.verify import verify_backup
from pbx.services.common.actor import Actor
from pbx.services.common.progress import Progress, no_progress
from storage.backups.store import BackupSet, BackupStore
from storage.blobs import BlobStore


@dataclass
class MissingRestored:
    """What a missing-only restore from the newest verified backup did."""

    backup_id: str | None
    reports: list[RestoreReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # newer backups that failed verification

    @property
    def blobs_restored(self) -> int:
        return sum(r.blobs_restored for r in self.reports)

    @property
    def ok(self) -> bool:
        return self.backup_id is not None and all(r.ok for r in self.reports)


def newest_verified(
    store: BackupStore, pg_server_url: str | None = None
) -> tuple[BackupSet | None, list[str]]:
    """The newest complete backup that verifies, and the ids of newer ones that did not."""
    skipped: list[str] = []
    newest_first = sorted(store.complete_sets(), key=lambda b: b.manifest.created_at)[::-1]
    for backup in newest_first:
        if verify_backup(backup, pg_server_url=pg_server_url).ok:
            return backup, skipped
        skipped.append(backup.backup_id)
    return None, skipped


def restore_missing(
    session: Session,
    live_blobs: BlobStore,
    actor: Actor,
    store: BackupStore,
    tenant_ids: list[int] | None,
    *,
    pg_server_url: str | None = None,
    progress: Progress = no_progress,
) -> MissingRestored:
    """Write back only what the live store lacks, for the companies (None: every company)."""
    backup, skipped = newest_verified(store, pg_server_url)
    result = MissingRestored(None if backup is None else backup.backup_id, skipped=skipped)
    if backup is None:
        return result
    for tenant_id in tenant_ids if tenant_ids is not None else [None]:
        selection = Selection(tenant_id=tenant_id)
        result.reports.append(
            restore_media(
                session, live_blobs, actor, backup, selection, missing_only=True,
                progress=progress,
            )  # fmt: skip
        )
    return result
