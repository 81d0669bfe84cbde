"""What the media-loss demo's steps share: the affected companies, the context, the fault."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from admin_web.runtime import Runtime
from pbx.services.backups.manage import LiveSystem
from pbx.services.common.actor import Actor, cli_actor
from storage.backups.references import iter_references
from storage.backups.store import BackupStore
from storage.blobs import FileBlobStore
from storage.models import StoredBlob, utcnow

AFFECTED = ("bergstrom-bygg", "kafe-lonnen")


@dataclass
class MediaContext:
    runtime: Runtime
    started: Any = field(default_factory=utcnow)
    backup_id: str = ""
    incident_id: int = 0
    voicemail_after_backup: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def operator(self) -> Actor:
        return cli_actor("pbx demo media-loss (operator)")

    def live(self) -> LiveSystem:
        settings = self.runtime.settings
        return LiveSystem(self.runtime.engine, settings.media_store, settings.blob_dir)

    def store(self) -> BackupStore:
        settings = self.runtime.settings
        return BackupStore.open(settings.backup_dir, live_blob_dir=settings.blob_dir)


def delete_media(ctx: MediaContext, session: Session, tenant_id: int) -> dict[str, int]:
    """The fault: every blob a company's rows refer to vanishes from the live store."""
    counts: dict[str, int] = {}
    shas = set()
    for ref in iter_references(session, tenant_id):
        shas.add(ref.sha256)
        counts[ref.owner] = counts.get(ref.owner, 0) + 1
    if ctx.runtime.settings.media_store == "database":
        session.execute(delete(StoredBlob).where(StoredBlob.sha256.in_(shas)))
    else:
        files = FileBlobStore(ctx.runtime.settings.blob_dir)
        for sha in shas:
            path = files.path_for(sha)
            if path.exists():
                os.unlink(path)
    counts["blobs"] = len(shas)
    return counts
