"""`pbx callback start|answer`: record-by-phone ("Spela in filen" → "Initiera samtal") from
the command line. `start` has the switchboard call a user's own number for a message slot;
`answer` is the phone that rings: it answers, speaks a file and hangs up (or is busy, or does
not answer), and the recording becomes a new version of the slot.

The calls themselves are `pbx.services.calls.live` (the browser softphone drives the same
calls over HTTP); the state lives in the database, so `start` and `answer` may run in
different processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_web.cli.base import emit_json, json_option, runtime
from pbx.errors import NotFound
from pbx.services.calls import live as live_calls
from pbx.services.calls.live import PhoneEvent
from pbx.services.common.actor import cli_actor
from pbx.services.common.scope import tenant_by_slug
from storage.models import LiveCall, MessageSlot, User

ACTOR = cli_actor("pbx callback")


@click.group()
def callback() -> None:
    """Record a message by phone: the switchboard calls you."""


@callback.command("start")
@click.option("--tenant", "slug", required=True, help="The company (its short name).")
@click.option("--user", "who", required=True, help="The user: e-mail or extension.")
@click.option("--slot", "slot_id", required=True, type=int, help="The message slot id.")
@click.option("--number", required=True, help="The user's own number, E.164.")
@json_option
def start(slug: str, who: str, slot_id: int, number: str, as_json: bool) -> None:
    """Start a callback; prints the session id to answer with."""
    with runtime() as rt, rt.unit_of_work() as s:
        tenant = tenant_by_slug(s, slug)
        user = _user(s, tenant.id, who)
        slot = s.get(MessageSlot, slot_id)
        if slot is None or slot.tenant_id != tenant.id:
            raise NotFound(f"no message slot {slot_id} in {slug}")
        call = live_calls.start_callback(s, rt.blobs(s), ACTOR, user, slot, number)
        payload = _payload(call)
    _show(payload, as_json)


@callback.command("answer")
@click.argument("session_id", metavar="SESSION")
@click.option(
    "--say",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="What to speak after the tone (any audio format); then hang up.",
)
@click.option("--busy", "outcome", flag_value="busy", help="Be busy instead of answering.")
@click.option("--no-answer", "outcome", flag_value="no_answer", help="Let it ring out.")
@json_option
def answer(session_id: str, say: Path | None, outcome: str | None, as_json: bool) -> None:
    """Answer a ringing callback, speak FILE and hang up."""
    audio = say.read_bytes() if say else None
    with runtime() as rt, rt.unit_of_work() as s:
        blobs = rt.blobs(s)
        call = live_calls.load(s, ACTOR, session_id)
        if call.status != "ringing":
            raise click.ClickException(f"callback {session_id} is not ringing ({call.status})")
        if outcome is not None:
            call = live_calls.feed(s, blobs, ACTOR, call, PhoneEvent(outcome))
        else:
            call = live_calls.feed(s, blobs, ACTOR, call, PhoneEvent("answer"))
            heard = list(call.steps)
            call = live_calls.feed(s, blobs, ACTOR, call, PhoneEvent("hangup"), audio=audio)
            call.steps = heard + list(call.steps)
        payload = _payload(call, s)
    _show(payload, as_json)


def _user(s: Session, tenant_id: int, who: str) -> User:
    column = User.email if "@" in who else User.extension
    user = s.scalar(select(User).where(User.tenant_id == tenant_id, column == who))
    if user is None:
        raise NotFound(f"no user {who!r} in this company")
    return user


def _payload(call: LiveCall, s: Session | None = None) -> dict[str, Any]:
    version = None
    if s is not None and call.slot_id is not None and call.outcome == "recorded":
        slot = s.get(MessageSlot, call.slot_id)
        version = slot.current_version_id if slot is not None else None
    return {
        "session": call.id,
        "status": call.status,
        "outcome": call.outcome,
        "slot_id": call.slot_id,
        "number": call.number,
        "steps": list(call.steps),
        "version_id": version,
    }


def _show(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(payload)
        return
    click.echo(f"Callback {payload['session']} to {payload['number']}: {payload['status']}")
    for step in payload["steps"]:
        details = ", ".join(f"{k}={v}" for k, v in step.items() if k != "do")
        click.echo(f"  {step['do']}  {details}".rstrip())
    if payload["outcome"]:
        click.echo(f"Outcome: {payload['outcome']}")
    if payload["version_id"]:
        click.echo(f"Stored as version {payload['version_id']} of slot {payload['slot_id']}")
