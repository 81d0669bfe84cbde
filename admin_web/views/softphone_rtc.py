"""The softphone's calls over WebRTC: the page posts its offer (SDP, ICE gathered), the
switchboard answers, and the call's audio and keys go over the peer connection
(`pbx.webrtc`). Three ways in, each for the signed-in account only:

- answering the switchboard's call ("Spela in filen" → "Initiera samtal"): the caller's own
  live call, by its token (anyone else's is 404, like a token that does not exist);
- calling 333 ("Mina inställningar / Hälsningsfras");
- "Ring upp" on the test-call page: one of the administered company's numbers.

The signalling is a POST with the site's session and CSRF token, rate-limited per IP.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from admin_web import webrtc
from admin_web.auth import current_account, current_actor, roles_required
from admin_web.db import db
from admin_web.i18n import current_language, gettext
from admin_web.ratelimit import rate_limit
from admin_web.views import softphone
from admin_web.views.media_support import blobs
from admin_web.views.site_common import site_tenant
from admin_web.webrtc import board, hub
from pbx.errors import Conflict, PbxError
from pbx.phone.switchboard import Switchboard
from pbx.services.calls import live as live_calls
from pbx.services.calls import testcall
from pbx.webrtc.hub import CallAlreadyConnected
from pbx.webrtc.lines import DialLine, Line, LiveLine

bp = softphone.bp
MAX_SDP = 64_000
SIGNALLING_LIMIT = "10 per minute"


@bp.post("/calls/<token>/rtc")
@roles_required(*softphone.PEOPLE)
@rate_limit(SIGNALLING_LIMIT)
def answer_rtc(token: str) -> Any:
    """Answer the switchboard's call on this page: the call goes over WebRTC from now on."""
    offer = _offer()
    call = live_calls.load(db(), current_actor(), token)
    if call.status != "ringing":
        return jsonify(error=gettext("The call is no longer ringing.")), 409
    switchboard = board(current_language())
    line = LiveLine(call.id, current_actor(), switchboard, answer_first=True)
    return _connect(call.id, line, switchboard, offer)


@bp.post("/rtc/dial")
@roles_required(*softphone.PEOPLE)
@rate_limit(SIGNALLING_LIMIT)
def dial_rtc() -> Any:
    """Call the voicemail service number 333 over WebRTC."""
    offer = _offer()
    try:
        call = live_calls.dial_service(db(), blobs(), current_actor(), current_account())
    except PbxError as exc:
        return jsonify(error=exc.message), 422
    db().commit()  # the call's first unit of work on the hub reads this row
    switchboard = board(current_language())
    line = LiveLine(call.id, current_actor(), switchboard, answer_first=False)
    return _connect(call.id, line, switchboard, offer)


@bp.post("/rtc/testcall/<number_id>")
@roles_required("company_admin", "operator")
@rate_limit(SIGNALLING_LIMIT)
def ring_up(number_id: str) -> Any:
    """ "Ring upp": call one of the company's numbers and hear it live (nothing is stored).
    The number is looked up first: another company's is a 404 whatever the request holds."""
    tenant = site_tenant()
    number = testcall.number_to_call(db(), current_actor(), tenant, number_id)
    offer = _offer()
    switchboard = board(current_language())
    line = DialLine(tenant.id, number.e164, current_actor(), switchboard)
    return _connect(line.call_id, line, switchboard, offer)


@bp.app_context_processor
def _rtc_settings() -> dict[str, Any]:
    """Pages with a softphone keep their ICE candidates on loopback when the switchboard's
    media does (the demo, the tests)."""
    return {"rtc_loopback": lambda: webrtc.media_addresses() == ("127.0.0.1",)}


def _offer() -> str:
    data = request.get_json(silent=True)
    sdp = data.get("sdp") if isinstance(data, dict) else None
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP:
        raise _Refused("Not a WebRTC offer.")
    if data.get("type") != "offer":
        raise _Refused("Not a WebRTC offer.")
    return sdp


class _Refused(Exception):
    """A request that is not a WebRTC offer."""


@bp.errorhandler(_Refused)
def _refused(exc: _Refused) -> tuple[Response, int]:
    return jsonify(error=gettext(str(exc))), 400


def _connect(key: str, line: Line, switchboard: Switchboard, offer: str) -> Any:
    try:
        answer = hub().connect(key, line, switchboard, offer)
    except CallAlreadyConnected:
        return jsonify(error=gettext("The call is already connected in another window.")), 409
    except Conflict:  # answered meanwhile by another window, perhaps in another web process
        return jsonify(error=gettext("The call is no longer ringing.")), 409
    except (ValueError, TimeoutError):
        return jsonify(error=gettext("The connection could not be set up.")), 400
    return jsonify(answer={"type": "answer", "sdp": answer}, call=key)
