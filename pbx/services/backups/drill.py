"""Restore drills: prove a backup restores, not just that it exists.

A drill restores the whole backup into a scratch location (a temporary directory, and for
PostgreSQL a scratch database on the same server, dropped afterwards), migrates it to the
current schema (an old backup must work with today's software), re-hashes every restored
blob, then makes a test call through every number and every IVR key (and timeout)
of every company with the call engine (`pbx.services.calls.drill`). The result is a dated
certificate (JSON and text) with counts per company, kept beside the backups and recorded in
the live database so the operator pages can show the last drill of each company.

The drill owns its transactions: it opens and drops its own scratch databases (see
`pbx.services.backups`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx.services.backups.manage import LiveSystem
from pbx.services.backups.restore import RestoreRefused
from pbx.services.backups.restore_whole import restore_whole
from pbx.services.common.progress import Progress, no_progress
from pbx.services.library.scan import CompanyScan, scan_media
from storage.backups import snapshot as snap
from storage.backups.store import BackupSet
from storage.blobs import BlobStore, FileBlobStore
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import IvrMenu, IvrOption, PhoneNumber, utcnow


@dataclass
class CompanyDrill:
    tenant_id: int
    slug: str
    name: str
    restorable: bool = False
    media_checked: int = 0
    media_problems: int = 0
    numbers: int = 0
    ivr_options: int = 0
    test_calls: int = 0
    test_calls_ok: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class DrillCertificate:
    backup_id: str
    backup_created_at: str
    database: str
    started_at: str
    finished_at: str = ""
    restorable: bool = False
    calls_checked: bool = False
    blobs_restored: int = 0
    bytes_restored: int = 0
    companies: list[CompanyDrill] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("media_checked", "media_problems", "numbers", "ivr_options", "test_calls")
        sums = {key: sum(getattr(c, key) for c in self.companies) for key in keys}
        sums["test_calls_ok"] = sum(c.test_calls_ok for c in self.companies)
        return sums

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "totals": self.totals()}


def drill_backup(
    backup: BackupSet,
    *,
    pg_server_url: str | None = None,
    scratch_root: Path | None = None,
    progress: Progress = no_progress,
) -> DrillCertificate:
    """Restore into scratch, check every blob, call every path; never touches live data."""
    manifest = backup.manifest
    certificate = DrillCertificate(
        manifest.backup_id, manifest.created_at, manifest.database.dialect, utcnow().isoformat()
    )
    try:
        with scratch_target(backup, pg_server_url, scratch_root) as target:
            restored = restore_whole(backup, target, progress=progress)
            upgrade(target.engine)  # an older backup must work with today's software
            certificate.blobs_restored = restored.blobs_restored
            certificate.bytes_restored = restored.bytes_restored
            _check_restored(backup, target, certificate, progress)
    except RestoreRefused as exc:
        certificate.problems.append(f"the backup does not restore: {exc}")
        certificate.companies = [_company(t) for t in manifest.tenants]
        for company in certificate.companies:
            company.problems.append("not restorable: the whole restore was refused")
    certificate.finished_at = utcnow().isoformat()
    certificate.restorable = not certificate.problems and all(
        c.restorable for c in certificate.companies
    )
    return certificate


def _company(tenant: dict[str, Any]) -> CompanyDrill:
    return CompanyDrill(int(tenant["id"]), str(tenant["slug"]), str(tenant["name"]))


@contextmanager
def scratch_target(
    backup: BackupSet, pg_server_url: str | None, scratch_root: Path | None
) -> Iterator[LiveSystem]:
    """An empty database and media directory to restore into, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vaxel-drill-", dir=scratch_root) as tmp:
        blob_dir = Path(tmp) / "blobs"
        if backup.manifest.database.dialect == "sqlite":
            with _target(f"sqlite:///{Path(tmp) / 'pbx.sqlite3'}", blob_dir) as target:
                yield target
            return
        if not pg_server_url or not pg_server_url.startswith("postgresql"):
            raise RestoreRefused("a drill of a PostgreSQL backup needs a PostgreSQL server URL")
        with snap.pg_scratch_database(pg_server_url) as url, _target(url, blob_dir) as target:
            yield target


@contextmanager
def _target(url: str, blob_dir: Path) -> Iterator[LiveSystem]:
    engine = make_engine(url)
    try:
        yield LiveSystem(engine, "files", blob_dir)
    finally:
        engine.dispose()  # before a scratch database is dropped


def _check_restored(
    backup: BackupSet, target: LiveSystem, certificate: DrillCertificate, progress: Progress
) -> None:
    with Session(target.engine) as session:
        blobs = FileBlobStore(target.blob_dir)
        scan = scan_media(session, blobs, progress=progress)
        scans = {c.tenant_id: c for c in scan.companies}
        certificate.calls_checked = True
        with progress("test calls", len(backup.manifest.tenants)) as advance:
            for tenant in backup.manifest.tenants:
                company = _company(tenant)
                _media(company, scans.get(company.tenant_id))
                _calls(session, blobs, company)
                company.restorable = not company.problems
                certificate.companies.append(company)
                advance(1)


def _media(company: CompanyDrill, scan: CompanyScan | None) -> None:
    if scan is None:
        company.problems.append("the company is missing from the restored database")
        return
    company.media_checked = scan.references
    company.media_problems = len(scan.problems)
    company.problems += [f"{p.status}: {p.where}" for p in scan.problems]


def _calls(session: Session, blobs: BlobStore, company: CompanyDrill) -> None:
    """Step 2 of a drill: a test call through every number and IVR option."""
    from pbx.services.calls.drill import test_call_every_path

    report = test_call_every_path(session, blobs, company.tenant_id)
    company.numbers = _count(session, PhoneNumber, company.tenant_id)
    company.ivr_options = _count(session, IvrOption, company.tenant_id)
    company.test_calls = len(report.paths)
    company.test_calls_ok = sum(path.ok for path in report.paths)
    for path in report.paths:
        if not path.ok:
            heard = ", ".join([f"missing '{m}'" for m in path.missing] + list(path.refused))
            company.problems.append(
                f"test call {path.number} keys '{path.keys}' ({path.via}): {path.disposition}"
                + (f"; {heard}" if heard else "")
            )


def _count(session: Session, model: Any, tenant_id: int) -> int:
    stmt = select(func.count()).select_from(model)
    if model is IvrOption:
        stmt = stmt.join(IvrMenu, IvrMenu.id == IvrOption.menu_id)
        return int(session.scalar(stmt.where(IvrMenu.tenant_id == tenant_id)) or 0)
    return int(session.scalar(stmt.where(model.tenant_id == tenant_id)) or 0)
