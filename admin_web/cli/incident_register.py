"""`pbx incident register create|list|export|pts|baseline|close`: the incident register
from the command line (the site has the same, and the company admins' own assessments)."""

from __future__ import annotations

from pathlib import Path

import click

from admin_web.cli.base import emit_json, json_option, runtime
from admin_web.cli.incident import incident, print_board
from admin_web.cli.incident_common import actor, moment, tenants
from pbx.incident import assessment, recovery, register, register_export
from pbx.incident.register import IncidentFields
from storage.models import utcnow


@incident.group("register")
def register_group() -> None:
    """The incident register (GDPR Art. 33/34, PTS)."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@register_group.command("create")
@click.option("--title", required=True)
@click.option("--discovered", required=True, help="When it was discovered (ISO, Swedish time).")
@click.option("--started", help="When it started.")
@click.option("--ended", help="When it ended.")
@click.option("--description", default="", help="What happened.")
@click.option("--nature", default="", help="confidentiality, integrity, availability.")
@click.option("--data", "data_categories", default="", help="Categories of data, comma-separated.")
@click.option("--subjects", "subject_categories", default="", help="Categories of people.")
@click.option("--approx-subjects", type=int)
@click.option("--approx-records", type=int)
@click.option("--consequences", default="")
@click.option("--severity", type=click.Choice(register.SEVERITIES), default="medium")
@click.option("--measures", default="")
@click.option("--tenant", "slugs", multiple=True, help="An affected company (told at once).")
def create(
    title: str,
    discovered: str,
    started: str | None,
    ended: str | None,
    description: str,
    nature: str,
    data_categories: str,
    subject_categories: str,
    approx_subjects: int | None,
    approx_records: int | None,
    consequences: str,
    severity: str,
    measures: str,
    slugs: tuple[str, ...],
) -> None:
    """Record an incident; its companies' admins are asked for their assessment."""
    data = IncidentFields(
        title=title,
        discovered_at=moment(discovered),
        description=description,
        nature=_split(nature),
        started_at=moment(started) if started else None,
        ended_at=moment(ended) if ended else None,
        data_categories=_split(data_categories),
        subject_categories=_split(subject_categories),
        approx_subjects=approx_subjects,
        approx_records=approx_records,
        consequences=consequences,
        severity=severity,
        measures=measures,
    )
    with runtime() as rt, rt.unit_of_work() as s:
        made = register.create(s, actor(), data, [t.id for t in tenants(s, slugs)])
        number = made.id
    click.echo(f"incident {number} recorded; PTS report due within 24 hours of discovery")


@register_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """Every incident with its deadlines."""
    now = utcnow()
    with runtime() as rt, rt.unit_of_work() as s:
        rows = []
        for item in register.list_incidents(s, actor()):
            parts = register.parts_of(s, item)
            decided = sum(p.decision != "pending" for p in parts)
            pts = assessment.pts_deadline(item, now)
            rows.append(
                {
                    "id": item.id,
                    "title": item.title,
                    "pts": pts.status,
                    "pts_due": pts.due.isoformat(),
                    "companies": len(parts),
                    "decided": decided,
                }
            )
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(
            f"#{r['id']} {r['title']}: PTS {r['pts']} (due {r['pts_due']}), "
            f"{r['decided']}/{r['companies']} companies decided"
        )


@register_group.command("export")
@click.argument("incident_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
def export(incident_id: int, out: Path | None) -> None:
    """The incident as a document (Markdown)."""
    with runtime() as rt, rt.unit_of_work() as s:
        _, text = register_export.export(s, actor(), incident_id)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"written to {out}")
    else:
        click.echo(text)


@register_group.command("pts")
@click.argument("incident_id", type=int)
@click.option("--reported", required=True, help="When the report was made (ISO).")
@click.option("--reference", default="", help="PTS's reference.")
def pts(incident_id: int, reported: str, reference: str) -> None:
    """Record the initial report to PTS."""
    with runtime() as rt, rt.unit_of_work() as s:
        item = register.get_incident(s, actor(), incident_id)
        register.record_pts_report(s, actor(), item, moment(reported), reference)
        status = assessment.pts_deadline(item).status
    click.echo(f"incident {incident_id}: PTS report recorded ({status})")


@register_group.command("baseline")
@click.argument("incident_id", type=int)
@click.option("--tenant", "slugs", multiple=True, help="Only these companies of the incident.")
def baseline(incident_id: int, slugs: tuple[str, ...]) -> None:
    """Media loss: scan each company of the incident and keep what is missing now."""
    with runtime() as rt, rt.unit_of_work() as s:
        item = register.get_incident(s, actor(), incident_id)
        wanted = {t.id for t in tenants(s, slugs)}
        for part in register.parts_of(s, item):
            if not wanted or part.tenant_id in wanted:
                found = recovery.store_baseline(s, rt.blobs(s), part)
                click.echo(f"company {part.tenant_id}: {len(found['items'])} item(s) missing")


@register_group.command("recovery")
@click.argument("incident_id", type=int)
def recovery_board(incident_id: int) -> None:
    """The recovery dashboard of each company of the incident (from its baseline)."""
    with runtime() as rt, rt.unit_of_work() as s:
        item = register.get_incident(s, actor(), incident_id)
        for part in register.parts_of(s, item):
            click.echo(f"company {part.tenant_id}:")
            print_board(recovery.dashboard_for(s, rt.blobs(s), part).as_dict()["rows"])


@register_group.command("close")
@click.argument("incident_id", type=int)
def close(incident_id: int) -> None:
    """Mark the incident closed (it stays in the register)."""
    with runtime() as rt, rt.unit_of_work() as s:
        register.close(s, actor(), register.get_incident(s, actor(), incident_id))
    click.echo(f"incident {incident_id} closed")
