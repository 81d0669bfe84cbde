"""`pbx call`: one call through the call engine, step by step (what the caller hears and
where the call went), written to the call log like a real one.

`pbx callback start|answer`: the record-by-phone callback ("Spela in filen" → "Initiera
samtal") from the command line; `answer` plays the phone that rings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from admin_web.cli.base import emit_json, json_option, runtime
from pbx.engine import EngineError, TraceStep
from pbx.media.errors import AudioError
from pbx.services.calls import simulated as calls
from pbx.services.calls.dialplan import build_snapshot
from pbx.services.calls.simulated import CallRequest
from pbx.services.common.actor import cli_actor
from pbx.services.common.scope import tenant_by_slug
from storage.models import Tenant, utcnow


@contextmanager
def engine_errors(what: str = "") -> Iterator[None]:
    """Bad input for the engine or the media layer → one clear line, exit 1."""
    try:
        yield
    except EngineError as exc:
        raise click.ClickException(exc.message) from None
    except AudioError as exc:
        raise click.ClickException(f"{what}{exc.message}") from None


@click.command("call")
@click.option("--from", "caller", required=True, metavar="NUMBER", help="E.164 or extension.")
@click.option("--to", "dialled", required=True, metavar="NUMBER", help="Number, extension, 333.")
@click.option("--dtmf", default="", metavar="DIGITS", help="Keys the caller presses (0-9 * #).")
@click.option(
    "--say",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Audio the caller speaks when recorded (any format).",
)
@click.option("--busy", multiple=True, metavar="EXT", help="This phone is busy (repeatable).")
@click.option("--no-answer", multiple=True, metavar="EXT", help="This phone does not answer.")
@click.option("--unavailable", multiple=True, metavar="EXT", help="This phone is unreachable.")
@click.option("--tenant", "slug", help="The company (needed for extensions and 333).")
@click.option("--dry-run", is_flag=True, help="Show the call; write nothing.")
@click.option(
    "--at",
    "as_if",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    metavar="'YYYY-MM-DD HH:MM'",
    help="Try the call as if it were this Swedish local time (opening hours, holidays).",
)
@json_option
def call(
    caller: str, dialled: str, dtmf: str, say: Path | None, busy: tuple[str, ...],
    no_answer: tuple[str, ...], unavailable: tuple[str, ...], slug: str | None,
    dry_run: bool, as_if: datetime | None, as_json: bool,
) -> None:  # fmt: skip
    """Run one call through the switchboard and show what the caller hears."""
    request = CallRequest(
        caller, dialled, dtmf, say.read_bytes() if say else None,
        frozenset(busy), frozenset(no_answer), frozenset(unavailable),
        as_if or calls.local_time_of(utcnow()),
    )  # fmt: skip
    with runtime() as rt, rt.unit_of_work() as s, engine_errors("--say: "):
        tenant = _tenant(s, slug, caller, dialled)
        blobs = rt.blobs(s)
        if dry_run:
            snap = build_snapshot(s, blobs, tenant.id)
            audio = calls.caller_audio(request.say) if request.say else None
            result = calls.CallResult(calls.simulate_request(s, snap, request, audio))
        else:
            result = calls.run_call(s, blobs, tenant.id, request, actor=cli_actor("pbx call"))
        payload = result.as_dict()
    if as_json:
        emit_json(payload)
        return
    click.echo(f"Call {payload['call_id']} from {caller} to {dialled} ({tenant.name})")
    for step in result.trace.steps:
        click.echo(f"  {step.at:6.1f}s  {describe(step)}")
    ids = ", ".join(map(str, payload["call_log_ids"])) or "none (dry run)"
    click.echo(f"Ended: {payload['disposition']}. Call-log entries written: {ids}")


def _tenant(s: Any, slug: str | None, caller: str, dialled: str) -> Tenant:
    if slug:
        return tenant_by_slug(s, slug)
    tenant = s.get(Tenant, calls.tenant_of_call(s, caller, dialled))
    assert tenant is not None
    return tenant


_WORDS = {
    "dtmf": "caller presses {digit}",
    "ring": "ringing {to}",
    "answer": "answered",
    "busy": "busy",
    "no_answer": "no answer",
    "unavailable": "unreachable",
    "forward": "forwarded to {to} ({reason})",
    "refused": "REFUSED leg to {to}: {reason}",
    "voicemail": "voicemail of {to}",
    "record": "recording ({reason})",
    "deposit": "voicemail message kept for {to} ({reason})",
    "timeout": "no key pressed (timeout)",
    "audio": "caller speaks ({reason})",
    "hangup": "hang-up ({reason})",
    "hours": "opening hours: {to} ({reason} {detail})",
    "dnd": "{to} is on do-not-disturb: busy",
    "presence": "do-not-disturb switched ({reason})",
}


def describe(step: TraceStep) -> str:
    """One trace step in words."""
    if step.kind == "prompt":
        mark = "" if step.audio == "ok" else "  [MISSING: fallback follows]"
        return f"plays {step.slot_name or '?'} (slot {step.slot_id}){mark}"
    if step.kind == "tone":
        return "tone (fallback for missing audio)" if step.reason == "fallback" else "beep"
    template = _WORDS.get(step.kind)
    if template is None:
        details = " ".join(str(v) for v in (step.slot_id, step.to, step.reason) if v)
        return f"{step.kind.replace('_', ' ')} {details}".strip()
    return template.format(
        digit=step.digit, to=step.to, reason=step.reason, detail=step.detail or ""
    ).replace(" )", ")")
