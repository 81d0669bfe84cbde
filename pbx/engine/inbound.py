"""A call arrives: the service number, a tenant number (welcome message, then its
destination), an extension (internal call) or an outside number from an extension."""

from __future__ import annotations

from pbx.engine.common import Result, finish, play
from pbx.engine.dialplan import DialplanSnapshot, ToExtension, ToExternal
from pbx.engine.events import Dial, Event, Hangup
from pbx.engine.presence import DND_CODE, toggle_dnd
from pbx.engine.routing import route
from pbx.engine.service import start_service
from pbx.engine.states import CallState, Ended


def on_idle(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    if isinstance(event, Hangup):
        return st.moved(Ended("abandoned", "before dial")), []
    if not isinstance(event, Dial):
        return st, []
    caller, dialled = event.caller, event.dialled
    if event.local_time is not None:
        st = st.evolve(local_time=event.local_time)
    if dialled == DND_CODE and caller in snap.user_index:
        st = st.evolve(caller=caller, dialled=dialled)
        return toggle_dnd(snap, st, snap.user_index[caller])
    if dialled == snap.service.number:
        st = st.evolve(caller=caller, dialled=dialled, direction="service")
        return start_service(snap, st, event.caller_verified)
    number = snap.number_index.get(dialled)
    if number is not None:
        welcome = play(snap, number.welcome_slot)
        answered_at = st.at if welcome else None
        st = st.evolve(caller=caller, dialled=dialled, answered_at=answered_at)
        st, actions = route(snap, st, number.destination)
        return st, welcome + actions
    if dialled in snap.user_index:
        st = st.evolve(caller=caller, dialled=dialled, direction="internal")
        return route(snap, st, ToExtension(dialled))
    if caller in snap.user_index and dialled.startswith("+"):
        st = st.evolve(caller=caller, dialled=dialled, direction="outbound")
        return route(snap, st, ToExternal(dialled))
    st = st.evolve(caller=caller, dialled=dialled)
    return finish(snap, st, "unknown_number", "unknown_number")
