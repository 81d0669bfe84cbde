"""`pbx media scan` and `pbx backup create|verify|restore|list|prune|drill`.

Long operations draw a progress bar on stderr (not with --json); every failure is one line
and a non-zero exit status. See README "Operations: backups".
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from admin_web.cli.base import PbxGroup, emit_json, json_option, runtime, settings_from_env
from admin_web.runtime import Runtime
from pbx.services.common.actor import cli_actor
from pbx.services.common.progress import Advance, Progress, no_progress
from pbx.services.common.scope import tenant_by_slug
from storage.backups.manifest import ManifestError
from storage.backups.prune import RetentionError
from storage.backups.snapshot import SnapshotError
from storage.backups.store import BackupSet, BackupStore, BackupStoreError, resolve_backup

STORAGE_ERRORS = (BackupStoreError, ManifestError, SnapshotError, RetentionError, OSError)


class BackupGroup(PbxGroup):
    """Storage-side failures (a busy or foreign store, a damaged manifest, pg_dump) are
    the operator's to fix too: one line, exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except STORAGE_ERRORS as exc:
            raise click.ClickException(" ".join(str(exc).split()) or type(exc).__name__) from None


def progress_bars(enabled: bool) -> Progress:
    """Bars on stderr when it is a terminal (never with --json, never into a log file)."""
    if not enabled or not sys.stderr.isatty():
        return no_progress

    @contextmanager
    def bar(label: str, total: int) -> Iterator[Advance]:
        with click.progressbar(length=max(total, 1), label=label, file=sys.stderr) as progress:
            yield progress.update

    return bar


def size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"


def live_system(rt: Runtime) -> Any:
    from pbx.services.backups.manage import LiveSystem

    return LiveSystem(rt.engine, rt.settings.media_store, rt.settings.blob_dir)


def find_backup(reference: str) -> BackupSet:
    return resolve_backup(reference, settings_from_env().backup_dir)


def store_at(path: Path | None) -> BackupStore:
    return BackupStore.existing(path or settings_from_env().backup_dir)


# --- pbx media scan -------------------------------------------------------------------------


@click.group(cls=BackupGroup)
def media() -> None:
    """Recorded media: integrity."""


@media.command("scan")
@click.option("--tenant", "slug", help="Only this company (its short name).")
@json_option
def scan(slug: str | None, as_json: bool) -> None:
    """Re-hash every referenced blob; list missing or corrupt ones per company, with where
    each is used. Exit status 1 when anything is missing or corrupt."""
    from pbx.services.library.scan import scan_media

    with runtime() as rt, rt.unit_of_work() as s:
        tenant_id = tenant_by_slug(s, slug).id if slug else None
        report = scan_media(
            s, rt.blobs(s), tenant_id=tenant_id, progress=progress_bars(not as_json)
        )
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_scan(report)
    if not report.ok:
        sys.exit(1)


def _print_scan(report: Any) -> None:
    for company in report.companies:
        if company.tenant_id is None and not company.references:
            continue
        state = "ok" if company.ok else f"{len(company.problems)} PROBLEM(S)"
        click.echo(f"{company.slug:<20} {company.name:<32} {company.references:>6} refs  {state}")
        for p in company.problems:
            placed = f" — placed at: {', '.join(p.placements)}" if p.placements else ""
            click.echo(f"    {p.status.upper():<8} {p.where}{placed}  [blob {p.sha256[:12]}…]")
    verdict = "clean" if report.ok else f"{len(report.problems)} problem(s)"
    click.echo(f"{report.blobs_checked} blobs re-hashed, {report.references} references: {verdict}")
    if report.temp_files_removed:
        click.echo(f"{report.temp_files_removed} leftover temp file(s) of killed writers removed")


# --- pbx backup ... --------------------------------------------------------------------------


@click.group(cls=BackupGroup)
def backup() -> None:
    """Backups: create, verify, restore, list, prune, drill."""


@backup.command("create")
@click.option("--to", "to", type=click.Path(path_type=Path), help="Backup store directory.")
@click.option("--full", is_flag=True, help="Also re-hash copies already in the store.")
@json_option
def create(to: Path | None, full: bool, as_json: bool) -> None:
    """Snapshot the database and copy every referenced blob not yet in the store; fails,
    naming company and slot, when a referenced blob is missing or corrupt."""
    from pbx.services.backups.manage import create_backup

    with runtime() as rt:
        store = BackupStore.open(to or rt.settings.backup_dir, live_blob_dir=rt.settings.blob_dir)
        manifest = create_backup(
            live_system(rt), store, full=full, progress=progress_bars(not as_json)
        )
    if as_json:
        emit_json({**manifest.as_dict(), "path": str(store.sets_dir / manifest.backup_id)})
        return
    c = manifest.counts
    click.echo(
        f"backup {manifest.backup_id} complete: {c.blobs} blobs ({size(c.bytes)}),"
        f" {c.references} references, {len(manifest.tenants)} companies;"
        f" new in the store: {c.new_blobs} blobs ({size(c.new_bytes)})"
    )
    click.echo(f"  {store.sets_dir / manifest.backup_id}")


@backup.command("verify")
@click.argument("backup_ref", metavar="BACKUP")
@json_option
def verify(backup_ref: str, as_json: bool) -> None:
    """Re-read and re-hash every blob, decode audio and pictures, resolve every reference,
    open the database snapshot and compare it with the manifest."""
    from pbx.services.backups.verify import verify_backup

    chosen = find_backup(backup_ref)
    settings = settings_from_env()
    report = verify_backup(
        chosen, pg_server_url=settings.database_url, progress=progress_bars(not as_json)
    )
    if as_json:
        emit_json(report.as_dict())
    elif report.ok:
        click.echo(
            f"backup {report.backup_id} verified: {report.blobs_checked} blobs"
            f" ({size(report.bytes_checked)}) re-hashed and decoded, {report.references}"
            " references resolved, database snapshot opens and matches the manifest"
        )
    else:
        click.echo(f"backup {report.backup_id} FAILED verification:")
        for problem in report.problems:
            click.echo(f"  {problem}")
    if not report.ok:
        sys.exit(1)


@backup.command("restore")
@click.argument("backup_ref", metavar="BACKUP")
@click.option("--tenant", "slug", help="Restore one company (its short name).")
@click.option("--slot", "slot_id", type=int, help="Restore one message slot (its id).")
@click.option("--missing-only", is_flag=True, help="Only write back blobs the live store lacks.")
@json_option
def restore(
    backup_ref: str, slug: str | None, slot_id: int | None, missing_only: bool, as_json: bool
) -> None:
    """Restore from BACKUP. With no option: everything, into an EMPTY database and media
    store (PBX_DATABASE_URL / PBX_DATA_DIR). With --tenant, --slot or --missing-only: into
    the live switchboard, never deleting anything (slots get a new "restore" version)."""
    if slug and slot_id is not None:
        raise click.UsageError("give --tenant or --slot, not both")
    chosen = find_backup(backup_ref)
    progress = progress_bars(not as_json)
    if slug is None and slot_id is None and not missing_only:
        report = _restore_whole(chosen, progress)
    else:
        report = _restore_live(chosen, slug, slot_id, missing_only, progress)
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_restore(report)
    if not report.ok:
        sys.exit(1)


def _restore_whole(chosen: BackupSet, progress: Progress) -> Any:
    from pbx.services.backups.restore_whole import restore_whole

    rt = Runtime.build(settings_from_env())  # the target is empty: no schema check
    try:
        return restore_whole(chosen, live_system(rt), progress=progress)
    finally:
        rt.close()


def _restore_live(
    chosen: BackupSet, slug: str | None, slot_id: int | None, missing_only: bool, progress: Progress
) -> Any:
    from pbx.services.backups.restore import Selection, restore_media

    with runtime() as rt, rt.unit_of_work() as s:
        selection = Selection(_tenant_id(s, chosen, slug), slot_id)
        return restore_media(
            s,
            rt.blobs(s),
            cli_actor("cli: backup restore"),
            chosen,
            selection,
            missing_only=missing_only,
            progress=progress,
        )


def _tenant_id(session: Any, chosen: BackupSet, slug: str | None) -> int | None:
    if slug is None:
        return None
    in_backup = [t for t in chosen.manifest.tenants if t["slug"] == slug]
    if not in_backup:
        raise click.ClickException(f"backup {chosen.backup_id} holds no company {slug!r}")
    live = tenant_by_slug(session, slug)
    if live.id != in_backup[0]["id"]:
        raise click.ClickException(f"company {slug!r} has another id live than in the backup")
    return live.id


def _print_restore(report: Any) -> None:
    click.echo(
        f"restore from {report.backup_id} ({report.scope}"
        f"{', missing only' if report.missing_only else ''}): {report.blobs_checked} blobs"
        f" checked, {report.blobs_restored} written back ({size(report.bytes_restored)}),"
        f" {len(report.versions_added)} restore version(s) added,"
        f" {report.slots_unchanged} slot(s) already as in the backup"
    )
    for added in report.versions_added:
        click.echo(f"  slot {added['slot_id']} '{added['slot']}': version {added['version_id']}")
    for line in report.refused:
        click.echo(f"  REFUSED {line}")
    for line in report.problems:
        click.echo(f"  PROBLEM {line}")


@backup.command("list")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help="Backup store.")
@click.option("--all", "show_all", is_flag=True, help="Also show incomplete (killed) runs.")
@json_option
def list_command(store_dir: Path | None, show_all: bool, as_json: bool) -> None:
    """List complete backups, oldest first."""
    from dataclasses import asdict

    from pbx.services.backups.manage import list_backups

    rows = list_backups(store_at(store_dir), include_incomplete=show_all)
    if as_json:
        emit_json([asdict(r) for r in rows])
        return
    click.echo(f"{'BACKUP':<26} {'DATABASE':<10} {'BLOBS':>7} {'SIZE':>9} {'NEW':>6} COMPANIES")
    for r in rows:
        if not r.complete:
            click.echo(f"{r.backup_id:<26} incomplete (no manifest; removed by the next run)")
            continue
        click.echo(
            f"{r.backup_id:<26} {r.database:<10} {r.blobs:>7} {size(r.bytes):>9}"
            f" {r.new_blobs:>6} {r.companies}"
        )


@backup.command("prune")
@click.option("--keep-daily", type=int, required=True, help="Newest backup of the last N days.")
@click.option("--keep-weekly", type=int, required=True, help="Newest backup of the last M weeks.")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help="Backup store.")
@click.option("--yes", is_flag=True, help="Remove for real (without it: a dry run).")
@json_option
def prune(
    keep_daily: int, keep_weekly: int, store_dir: Path | None, yes: bool, as_json: bool
) -> None:
    """Remove backups outside the retention policy and store objects no kept backup uses.
    Shows what it would do first; acts only with --yes. Never touches the live store."""
    from pbx.services.backups.manage import prune_backups

    settings = settings_from_env()
    store = store_at(store_dir)
    store.refuse_overlap(settings.blob_dir)
    result = prune_backups(store, keep_daily=keep_daily, keep_weekly=keep_weekly, apply=yes)
    if as_json:
        emit_json(_prune_json(result))
    else:
        _print_prune(result)


def _prune_json(result: Any) -> dict[str, Any]:
    plan = result.plan
    return {
        "applied": result.applied,
        "keep": [b.backup_id for b in plan.keep],
        "remove": [b.backup_id for b in plan.remove],
        "incomplete": plan.incomplete,
        "unreferenced_blobs": plan.orphan_blobs,
        "unreferenced_bytes": plan.orphan_bytes,
        "blobs_removed": result.blobs_removed,
    }


def _print_prune(result: Any) -> None:
    plan = result.plan
    for b in plan.keep:
        click.echo(f"  keep    {b.backup_id}")
    for b in plan.remove:
        click.echo(f"  remove  {b.backup_id}")
    for name in plan.incomplete:
        click.echo(f"  remove  {name} (incomplete)")
    orphans = f"{plan.orphan_blobs} unreferenced store object(s) ({size(plan.orphan_bytes)})"
    if result.applied:
        click.echo(f"removed {len(plan.remove)} backup(s) and {result.blobs_removed} object(s)")
    else:
        click.echo(f"dry run: would remove {len(plan.remove)} backup(s) and {orphans};")
        click.echo("nothing was removed — run again with --yes to remove them")


@backup.command("drill")
@click.argument("backup_ref", metavar="BACKUP")
@click.option("--no-record", is_flag=True, help="Do not record the result in the database.")
@json_option
def drill(backup_ref: str, no_record: bool, as_json: bool) -> None:
    """Restore BACKUP into a scratch location, re-hash every blob, make a test call through
    every number and IVR option of every company, and print a dated certificate (also kept
    under the store's drills/ and, unless --no-record, shown on the operator pages)."""
    import json

    from pbx.services.backups.drill import drill_backup
    from pbx.services.backups.drill_results import certificate_text

    chosen = find_backup(backup_ref)
    settings = settings_from_env()
    certificate = drill_backup(
        chosen, pg_server_url=settings.database_url, progress=progress_bars(not as_json)
    )
    text = certificate_text(certificate)
    payload = json.dumps(certificate.as_dict(), ensure_ascii=False, indent=2)
    stamp = certificate.finished_at.replace(":", "").replace("-", "")[:15] + "Z"
    saved = BackupStore(chosen.path.parent.parent).save_certificate(
        chosen.backup_id, stamp, payload, text
    )
    if not no_record:
        _record(certificate)
    click.echo(payload if as_json else text + f"certificate: {saved} (and .txt)")
    if not certificate.restorable:
        sys.exit(1)


def _record(certificate: Any) -> None:
    from pbx.services.backups.drill_results import record_drill

    with runtime() as rt, rt.unit_of_work() as session:
        record_drill(session, cli_actor("cli: backup drill"), certificate)


def register_backup_commands(cli: click.Group) -> None:
    """Add `pbx media …` and `pbx backup …` to the root command."""
    cli.add_command(media)
    cli.add_command(backup)
