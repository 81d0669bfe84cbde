"""Organisation / Provringa: call one of the company's numbers, press keys on the on-screen
keypad, and read the engine's trace step by step while hearing each message (HTML audio
from the message library's media URLs); a missing message is shown in red.

A test call changes nothing, so it is a GET: the page can be bookmarked and repeated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, request, url_for

from admin_web.auth import roles_required
from admin_web.db import db, runtime
from admin_web.i18n import current_language, gettext
from admin_web.views.site_common import Form, actor, render_form, site_tenant
from pbx.engine import EngineError, TraceStep
from pbx.errors import ValidationError
from pbx.services.calllog.vocabulary import DISPOSITION_LABELS
from pbx.services.calls import testcall
from pbx.services.calls.live_snapshot import VOICEMAIL_PREFIX
from pbx.services.library import system_prompts
from pbx.services.routing import numbers

bp = Blueprint("site_testcall", __name__, url_prefix="/testcall")
KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
PHONE_CHOICES = {
    "answer": "Phones answer",
    "busy": "Phones are busy",
    "no_answer": "Nobody answers",
}


@bp.get("/")
@roles_required("company_admin", "operator")
def index() -> Any:
    """The test call: choose a number and keys; with `number` given, the call's trace."""
    tenant = site_tenant()
    form = Form(request.args)
    result = None
    if form.text("number"):
        try:
            result = testcall.run_test_call(
                db(), runtime().blobs(db()), actor(), tenant, form.text("number"),
                form.text("keys"), form.text("phones", "answer"), _as_if(form),
            )  # fmt: skip
        except ValidationError as exc:
            form.fail(exc)
        except EngineError as exc:
            form.errors["number"] = gettext(exc.message)
    return render_form(
        "site/testcall.html",
        form,
        numbers=numbers.list_numbers(db(), tenant.id),
        keypad=KEYPAD,
        phones=PHONE_CHOICES,
        result=result,
        steps=[_step(s, result.names) for s in result.trace.steps] if result else [],
    )


def _as_if(form: Form) -> datetime | None:
    """"Provringa som om det vore …": the local date and time to try the call as (empty:
    now). A bad value is a field error."""
    raw = form.text("at").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise ValidationError("at", "Enter a date and time.") from None


def _step(step: TraceStep, names: dict[str, str]) -> dict[str, Any]:
    """A trace line as the page shows it: what happened, and the audio to hear."""
    who = names.get(step.to or "", "")
    return {
        "kind": step.kind,
        "at": f"{step.at:.0f} s",
        "text": _describe(step, f"{step.to} {who}".strip() if step.to else ""),
        "missing": step.audio == "missing",
        "audio_url": _audio_url(step.slot_id) if step.audio == "ok" else None,
    }


def _describe(step: TraceStep, to: str) -> str:
    name = _slot_name(step)
    texts = {
        "prompt": ("Plays “%(x)s”", name)
        if step.audio == "ok"
        else ("Missing message “%(x)s”: the caller hears a tone instead", name),
        "tone": ("A tone (%(x)s)", _reason(step.reason or "")),
        "dtmf": ("The caller presses %(x)s", step.digit or ""),
        "ring": ("Rings %(x)s", to),
        "forward": ("Forwarded to %(x)s", to),
        "refused": ("Refused leg to %(x)s", f"{to} ({step.reason})"),
        "voicemail": ("Voicemail of %(x)s", to),
        "timeout": ("The caller presses nothing (timeout)%(x)s", ""),
        "hangup": ("Hang-up (%(x)s)", _reason(step.reason or "")),
        "hours": (HOURS_TEXTS.get(f"{step.to}:{step.reason}", "%(x)s"), _hours_detail(step)),
        "dnd": ("%(x)s has do not disturb on: treated as busy", to),
    }
    if step.kind in texts:
        msgid, value = texts[step.kind]
        return gettext(msgid, x=value)
    return gettext(EVENT_TEXTS.get(step.kind, step.kind))


def _hours_detail(step: TraceStep) -> str:
    detail = step.detail or ""
    return gettext(WEEKDAYS[detail]) if detail in WEEKDAYS else detail


def _reason(code: str) -> str:
    return gettext(REASONS.get(code) or DISPOSITION_LABELS.get(code) or code)


def _slot_name(step: TraceStep) -> str:
    """A message's name; for the switchboard's own prompts, the words they say."""
    slot_id = step.slot_id or ""
    spoken = system_prompts.text_of(slot_id, current_language())
    return spoken or step.slot_name or slot_id


# Opening hours in the trace: which branch and why (x: the holiday, closed day or interval).
HOURS_TEXTS = {
    "open:within_hours": "Open (opening hours %(x)s): the open branch",
    "open:no_time": "No time given: the open branch%(x)s",
    "open:no_schedule": "No opening hours set: the open branch%(x)s",
    "open:holiday": "Open: %(x)s is kept open",
    "closed:outside_hours": "Closed: outside the opening hours (%(x)s): the closed branch",
    "closed:holiday": "Closed: %(x)s (holiday): the closed branch",
    "closed:closed_day": "Closed: closed day (%(x)s): the closed branch",
}
WEEKDAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
REASONS = {
    "fallback": "fallback: the message is missing",
    "beep": "beep",
    "caller": "the caller hung up",
    "switchboard": "the switchboard hung up",
}
EVENT_TEXTS = {
    "answer": "Answered",
    "busy": "Busy",
    "no_answer": "No answer",
    "unavailable": "Not reachable",
    "record": "Recording starts",
    "deposit": "A voicemail message is left",
    "audio": "The caller speaks",
    "discarded": "The recording is thrown away",
    "stored": "The recording is stored",
    "greeting_saved": "The greeting is saved",
    "greeting_deleted": "The greeting is deleted",
    "playback": "The recording is played back",
    "messages_heard": "New messages are marked as heard",
    "pin": "The PIN is checked",
    "callback": "The callback ends",
    "presence": "Do not disturb is switched",
}


def _audio_url(slot_id: str | None) -> str | None:
    """Where the browser fetches a slot's audio (the message library's scoped media
    routes; system prompts through the softphone's synthesiser)."""
    if not slot_id:
        return None
    views = current_app.view_functions
    if slot_id.startswith(system_prompts.PREFIX):
        return url_for("softphone.prompt", id=slot_id) if "softphone.prompt" in views else None
    if slot_id.startswith(VOICEMAIL_PREFIX):
        message = slot_id[len(VOICEMAIL_PREFIX) :]
        return (
            url_for("media.voicemail", message_id=message) if "media.voicemail" in views else None
        )
    return url_for("media.slot", slot_id=slot_id) if "media.slot" in views else None
