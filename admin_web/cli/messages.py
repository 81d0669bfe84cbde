"""`pbx messages regenerate-missing`: bring back every missing message that has script text
with text-to-speech (offline espeak-ng when the internet is away), for one company or all,
with a progress bar. Messages without script text are listed: they need a recording.
"""

from __future__ import annotations

import click

from admin_web.cli.backup import progress_bars
from admin_web.cli.base import emit_json, json_option, runtime
from pbx.media.tts import build_tts
from pbx.services.common.actor import cli_actor
from pbx.services.common.scope import tenant_by_slug
from pbx.services.library import bulk_tts as library_bulk


@click.group()
def messages() -> None:
    """The message library (Röstmeddelanden)."""


@messages.command("regenerate-missing")
@click.option("--tenant", "slug", help="One company (its short name).")
@click.option("--all", "every", is_flag=True, help="Every company.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many messages.")
@json_option
def regenerate_missing(slug: str | None, every: bool, limit: int | None, as_json: bool) -> None:
    """Make every missing message with script text again with text-to-speech."""
    if bool(slug) == every:
        raise click.UsageError("give either --tenant T or --all")
    with runtime() as rt, rt.unit_of_work() as s:
        tenant_id = tenant_by_slug(s, slug).id if slug else None
        result = library_bulk.regenerate_missing(
            s, rt.blobs(s), build_tts(rt.settings.tts_engines), cli_actor("pbx messages"),
            tenant_id=tenant_id, limit=limit, progress=progress_bars(not as_json),
        )  # fmt: skip
    if as_json:
        emit_json(result.as_dict())
        return
    _report(result)


def _report(result: library_bulk.Regeneration) -> None:
    click.echo(f"Regenerated {len(result.regenerated)} message(s) with text-to-speech.")
    for ref in result.regenerated:
        click.echo(f"  ✓ {ref.tenant_slug}: {ref.name} (slot {ref.slot_id}, {ref.engine})")
    for ref in result.failed:
        click.echo(f"  ✗ {ref.tenant_slug}: {ref.name} (slot {ref.slot_id}): {ref.error}")
    if result.needs_recording:
        click.echo(
            f"{len(result.needs_recording)} message(s) have no script text and need a recording:"
        )
        for ref in result.needs_recording:
            click.echo(f"  - {ref.tenant_slug}: {ref.name} (slot {ref.slot_id}, {ref.kind})")
    if result.remaining:
        click.echo(f"{result.remaining} more left (--limit); run the command again.")
