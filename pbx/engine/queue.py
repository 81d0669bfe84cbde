"""Queues: the queue message, then members hunted once in order within the maximum wait,
then the overflow destination."""

from __future__ import annotations

from pbx.engine.actions import Action, RingUser, StartTimer
from pbx.engine.common import Result, answered, finish, log_leg, play, unreachable
from pbx.engine.dialplan import DialplanSnapshot, Queue
from pbx.engine.events import Answer, Busy, Event, Hangup, NoAnswer, Timer, Unavailable
from pbx.engine.states import CallState, Connected, InQueue, Routing

_OUTCOMES: dict[type, str] = {
    Busy: "busy",
    NoAnswer: "no_answer",
    Unavailable: "unavailable",
    Timer: "no_answer",
    Hangup: "abandoned",
}


def enter_queue(snap: DialplanSnapshot, st: CallState, queue_id: str) -> Result:
    queue = snap.queue_index.get(queue_id)
    if queue is None:
        return unreachable(snap, st, "unknown_queue")
    actions = [*play(snap, queue.message_slot), StartTimer(queue.max_wait)]
    return _ring_member(snap, answered(st), queue, 0, 0.0, actions)


def _ring_member(
    snap: DialplanSnapshot,
    st: CallState,
    queue: Queue,
    index: int,
    waited: float,
    actions: list[Action],
) -> Result:
    members = queue.members
    while index < len(members) and members[index] not in snap.user_index:
        index += 1  # a member removed since: skip
    if index >= len(members) or waited >= queue.max_wait:
        return st.moved(Routing(queue.overflow, "overflow")), actions
    user = snap.user_index[members[index]]
    timeout = min(user.ring_time, queue.max_wait - waited)
    actions.append(RingUser(user.ext, user.user_id, timeout))
    return st.moved(InQueue(queue.queue_id, index, waited, st.at)), actions


def on_queue(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, InQueue)
    queue = snap.queue_index[phase.queue_id]
    user = snap.user_index[queue.members[phase.index]]
    if isinstance(event, Answer):
        connected = Connected(
            user.ext, "internal", phase.since, st.at, user.user_id, queue_id=queue.queue_id
        )
        return st.moved(connected), []
    outcome = _OUTCOMES.get(type(event))
    if outcome is None:
        return st, []
    st, log = log_leg(
        snap,
        st,
        direction="internal",
        callee=user.ext,
        since=phase.since,
        disposition=outcome,
        user_id=user.user_id,
        queue_id=queue.queue_id,
    )
    if isinstance(event, Hangup):
        return finish(snap, st, "abandoned", "", [log])
    waited = phase.waited + max(0.0, st.at - phase.since)
    if isinstance(event, Timer):
        waited = float(queue.max_wait)
    return _ring_member(snap, st, queue, phase.index + 1, waited, [log])
