"""`step(snapshot, state, event) -> (state, actions)`: the whole call engine.

Pure: the same arguments always give the same result, nothing is read or written elsewhere.
It never raises for any event in any state: events that mean nothing in the current phase are
ignored, every call is ended after `limits.max_events` events, and routing that goes round in
circles without waiting for an event is ended after `limits.max_hops` hops.
"""

from __future__ import annotations

from collections.abc import Callable

from pbx.engine import callback, forwarding, inbound, ivr, queue, service, voicemail
from pbx.engine.actions import Action, HangUp, WriteCallLog
from pbx.engine.common import Result, finish
from pbx.engine.dialplan import DialplanSnapshot
from pbx.engine.events import Event, Hangup
from pbx.engine.routing import route
from pbx.engine.states import (
    CallbackRecording,
    CallbackReview,
    CallbackRinging,
    CallState,
    Connected,
    Ended,
    Idle,
    InMenu,
    InQueue,
    RecordingVoicemail,
    Ringing,
    RingingExternal,
    Routing,
    ServiceMailbox,
    ServiceMenu,
    ServicePin,
    ServiceRecording,
    ServiceVerifying,
)

Handler = Callable[[DialplanSnapshot, CallState, Event], Result]

_HANDLERS: dict[type, Handler] = {
    Idle: inbound.on_idle,
    InMenu: ivr.on_menu,
    Ringing: forwarding.on_ringing,
    RingingExternal: forwarding.on_ringing_external,
    Connected: forwarding.on_connected,
    InQueue: queue.on_queue,
    RecordingVoicemail: voicemail.on_recording,
    ServiceMailbox: service.on_mailbox,
    ServicePin: service.on_pin,
    ServiceVerifying: service.on_verifying,
    ServiceMenu: service.on_menu,
    ServiceRecording: service.on_recording,
    CallbackRinging: callback.on_ringing,
    CallbackRecording: callback.on_recording,
    CallbackReview: callback.on_review,
}


def step(
    snapshot: DialplanSnapshot, state: CallState, event: Event
) -> tuple[CallState, list[Action]]:
    """Apply one event to a call. A final state ignores further events."""
    handler = _HANDLERS.get(type(state.phase))
    if handler is None:  # Ended (Routing never survives a step)
        return state, []
    st = state.ticked(event.at if event.at > state.at else state.at)
    if st.events > snapshot.limits.max_events:
        return _stop(snapshot, st, handler)
    st, actions = handler(snapshot, st, event)
    if type(st.phase) is Routing:
        return _resolve(snapshot, st, actions)
    return st, actions


def _stop(snap: DialplanSnapshot, st: CallState, handler: Handler) -> Result:
    """The event limit: close whatever is open as a hang-up would (legs in progress are
    logged, a recording is kept), then end the call saying why."""
    if type(st.phase) is Idle:
        return st.moved(Ended("step_limit", "too many events")), []
    st, actions = handler(snap, st, Hangup(at=st.at))
    closing: list[Action] = [
        action
        for action in actions
        if not isinstance(action, HangUp)
        and not (isinstance(action, WriteCallLog) and action.leg.leg == 1)
    ]
    return finish(snap, st, "step_limit", "too many events", closing)


def _resolve(snap: DialplanSnapshot, st: CallState, actions: list[Action]) -> Result:
    """Follow `Routing` phases until the call waits for an event or ends."""
    hops = 0
    while isinstance(st.phase, Routing):
        hops += 1
        if hops > snap.limits.max_hops:
            return finish(snap, st, "routing_loop", "routing loop", actions)
        st, more = route(snap, st, st.phase.destination)
        actions += more
    return st, actions
