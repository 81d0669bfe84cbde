"""Resolve a `Routing` phase: send the call to its destination."""

from __future__ import annotations

from pbx.engine.actions import HoursChecked
from pbx.engine.common import Result, answered, finish, play
from pbx.engine.dialplan import (
    Destination,
    DialplanSnapshot,
    ToExtension,
    ToExternal,
    ToHours,
    ToIvr,
    ToQueue,
    ToVoicemail,
)
from pbx.engine.forwarding import enter_external, enter_user
from pbx.engine.ivr import enter_menu
from pbx.engine.queue import enter_queue
from pbx.engine.states import CallState, Routing
from pbx.engine.voicemail import enter_voicemail
from pbx.policies.opening_hours import HoursStatus, status


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
    if isinstance(destination, ToHours):
        return by_hours(snap, st, destination)
    goodbye = play(snap, destination.slot_id)
    return finish(snap, st, "hung_up", "", goodbye)


def by_hours(snap: DialplanSnapshot, st: CallState, dest: ToHours) -> Result:
    """The open or the closed branch, by the schedule at the call's local start time; the
    action says which and why. Closed: the closed message first (the call is answered)."""
    schedule = snap.schedule_index.get(dest.schedule_id)
    if schedule is None:
        verdict = HoursStatus(True, "no_schedule")
    else:
        verdict = status(schedule.hours, st.local_time)
    checked = HoursChecked(dest.schedule_id, verdict.open, verdict.reason, verdict.detail)
    if verdict.open:
        return st.moved(Routing(dest.open, "open")), [checked]
    closing = play(snap, dest.closed_slot)
    if closing:
        st = answered(st)
    return st.moved(Routing(dest.closed, "closed")), [checked, *closing]
