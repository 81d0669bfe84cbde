"""Resolve a `Routing` phase: send the call to its destination."""

from __future__ import annotations

from pbx.engine.common import Result, finish, play
from pbx.engine.dialplan import (
    Destination,
    DialplanSnapshot,
    ToExtension,
    ToExternal,
    ToIvr,
    ToQueue,
    ToVoicemail,
)
from pbx.engine.forwarding import enter_external, enter_user
from pbx.engine.ivr import enter_menu
from pbx.engine.queue import enter_queue
from pbx.engine.states import CallState
from pbx.engine.voicemail import enter_voicemail


def route(snap: DialplanSnapshot, st: CallState, destination: Destination) -> Result:
    if isinstance(destination, ToIvr):
        return enter_menu(snap, st, destination.menu_id)
    if isinstance(destination, ToExtension):
        return enter_user(snap, st, destination.ext)
    if isinstance(destination, ToQueue):
        return enter_queue(snap, st, destination.queue_id)
    if isinstance(destination, ToVoicemail):
        return enter_voicemail(snap, st, destination.ext)
    if isinstance(destination, ToExternal):
        return enter_external(snap, st, destination.e164)
    goodbye = play(snap, destination.slot_id)
    return finish(snap, st, "hung_up", "", goodbye)
