"""The browser softphone: the user's own phone in this simulated switchboard.

It rings when the switchboard calls the user ("Spela in filen" → "Initiera samtal"), answers,
plays what the switchboard says (synthesised system prompts, stored messages), records from
the microphone after the tone and sends each recording with the key or hang-up that ended it;
it also dials 333. All of the call's logic is the engine's (`pbx.services.calls.live`); these
routes only carry the phone's events in and the steps out, as JSON for softphone.js.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from werkzeug.wrappers import Response

from admin_web import webrtc
from admin_web.auth import current_account, current_actor, roles_required
from admin_web.db import db
from admin_web.i18n import current_language, gettext
from admin_web.ratelimit import rate_limit
from admin_web.views.media_support import blobs, send_media, tts
from pbx.errors import NotFound, PbxError
from pbx.media.wav import MASTER_CONTENT_TYPE
from pbx.services.calls import live as live_calls
from pbx.services.calls.live import PhoneEvent
from pbx.services.calls.live_snapshot import VOICEMAIL_PREFIX
from pbx.services.library import system_prompts
from pbx.services.library.files import MediaFile
from storage.models import LiveCall

bp = Blueprint("softphone", __name__, url_prefix="/softphone")
PEOPLE = ("company_admin", "user")
MAX_TAKE_UPLOAD = 15_000_000


@bp.get("/")
@roles_required(*PEOPLE)
def index() -> str:
    """The softphone: answers the switchboard's calls and dials 333."""
    return render_template("library/softphone.html", account=current_account())


@bp.get("/incoming")
@roles_required(*PEOPLE)
def incoming() -> Response:
    """The call ringing on this user's phone now, if any (the page polls this)."""
    call = live_calls.ringing_for(db(), current_account())
    return jsonify(call=_view(call) if call is not None else None)


@bp.post("/dial")
@roles_required(*PEOPLE)
@rate_limit("20 per minute")
def dial() -> Any:
    """Call the voicemail service number 333 from this phone."""
    try:
        call = live_calls.dial_service(db(), blobs(), current_actor(), current_account())
    except PbxError as exc:
        return jsonify(error=exc.message), 422
    return jsonify(call=_view(call))


@bp.get("/calls/<token>")
@roles_required(*PEOPLE)
def show(token: str) -> Response:
    return jsonify(call=_view(live_calls.load(db(), current_actor(), token)))


@bp.post("/calls/<token>/events")
@roles_required(*PEOPLE)
@rate_limit("300 per minute")
def event(token: str) -> Any:
    """What the phone did (answer, a key, a timer, hang up), with the recording if one ended."""
    call = live_calls.load(db(), current_actor(), token)
    if webrtc.carries(call.id):  # the call's events come over its peer connection now
        return jsonify(error=gettext("The call is connected over WebRTC.")), 409
    audio = request.files.get("audio")
    data = audio.read(MAX_TAKE_UPLOAD + 1) if audio is not None else None
    try:
        happened = PhoneEvent(request.form.get("event", ""), request.form.get("digit", ""))
        call = live_calls.feed(db(), blobs(), current_actor(), call, happened, data)
    except PbxError as exc:
        return jsonify(error=exc.message), 422
    return jsonify(call=_view(call))


@bp.get("/calls/<token>/take")
@roles_required(*PEOPLE)
def take(token: str) -> Response:
    """A recording made in this call, played back before it is stored."""
    call = live_calls.load(db(), current_actor(), token)
    number = request.args.get("take", "")
    if not number.isdigit():
        raise NotFound("no such recording")
    audio = live_calls.take_audio(db(), call, int(number))
    return send_media(MediaFile(audio, MASTER_CONTENT_TYPE, f"take-{number}.wav"))


@bp.get("/prompt")
@roles_required(*PEOPLE)
def prompt() -> Response:
    """A system prompt, spoken by text-to-speech (kept in memory once made)."""
    language = current_language()
    text = system_prompts.text_of(request.args.get("id", ""), language)
    if text is None:
        raise NotFound("no such prompt")
    cache: dict[tuple[str, str], bytes] = current_app.extensions.setdefault("pbx_prompts", {})
    key = (text, language)
    if key not in cache:
        cache[key] = tts().synthesise(text, language).wav
    return send_media(MediaFile(cache[key], MASTER_CONTENT_TYPE, "prompt.wav"))


def _view(call: LiveCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "kind": call.kind,
        "status": call.status,
        "outcome": call.outcome,
        "slot_id": call.slot_id,
        "steps": [_with_url(call, step) for step in call.steps],
        "events_url": url_for(".event", token=call.id),
        "rtc_url": url_for(".answer_rtc", token=call.id),
    }


def _with_url(call: LiveCall, step: dict[str, Any]) -> dict[str, Any]:
    if step["do"] == "play_take":
        return step | {"url": url_for(".take", token=call.id, take=step["take"])}
    if step["do"] != "play":
        return step
    prompt_id = str(step["prompt"])
    if prompt_id.startswith(system_prompts.PREFIX):
        return step | {"url": url_for(".prompt", id=prompt_id)}
    if prompt_id.startswith(VOICEMAIL_PREFIX):
        message_id = prompt_id[len(VOICEMAIL_PREFIX) :]
        return step | {"url": url_for("media.voicemail", message_id=message_id)}
    return step | {"url": url_for("media.slot", slot_id=prompt_id)}
