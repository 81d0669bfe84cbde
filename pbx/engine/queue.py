"""Queues and ring groups: the queue message, the caller's position and the message on hold
(queues only), then the members rung one after another in the order of the strategy — or all
at once (ring_all) — round after round until the maximum wait is up, then the overflow
destination ("what happens after"). A round in which no member could ring at all (every one
busy or unavailable at once) ends the hunt early: ringing them again at once would only spin.
Members on do-not-disturb are passed over."""

from __future__ import annotations

from pbx.engine.actions import Action, DoNotDisturb, RingGroup, RingUser, StartTimer
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
    order, away = hunt_order(snap, queue)
    actions: list[Action] = play(snap, queue.message_slot)
    if queue.kind == "queue":
        if queue.announce_position:
            actions += position_prompt(snap, queue.waiting + 1)
        actions += play(snap, queue.hold_slot)
    if actions or queue.kind == "queue":
        st = answered(st)
    actions.append(StartTimer(queue.max_wait))
    actions += [DoNotDisturb(ext) for ext in away]
    return _ring_member(snap, st, queue, order, 0, 0.0, actions)


def hunt_order(snap: DialplanSnapshot, queue: Queue) -> tuple[tuple[str, ...], list[str]]:
    """The members this call rings, in order (extensions still in the company and not on
    do-not-disturb), and those passed over for do-not-disturb."""
    known = [ext for ext in queue.members if ext in snap.user_index]
    away = [ext for ext in known if snap.user_index[ext].dnd]
    members = [ext for ext in known if ext not in away]
    if queue.strategy == "round_robin" and queue.last_rung in queue.members:
        after = queue.members.index(queue.last_rung) + 1
        rotated = [*queue.members[after:], *queue.members[:after]]
        members = [ext for ext in rotated if ext in members]
    elif queue.strategy == "least_recent":
        answered_at = dict(queue.last_answered)
        members.sort(key=lambda ext: answered_at.get(ext, float("-inf")))
    return tuple(members), away


def position_prompt(snap: DialplanSnapshot, position: int) -> list[Action]:
    """ "You are number N in the queue" (the last prompt serves every later position)."""
    prompts = snap.prompts.queue_positions
    if not prompts or position < 1:
        return []
    return play(snap, prompts[min(position, len(prompts)) - 1])


def _ring_member(
    snap: DialplanSnapshot,
    st: CallState,
    queue: Queue,
    order: tuple[str, ...],
    index: int,
    waited: float,
    actions: list[Action],
    round_from: float = 0.0,
) -> Result:
    together = queue.strategy == "ring_all"
    if order and index >= (1 if together else len(order)):
        if waited <= round_from:  # nobody rang this round (all busy or unavailable)
            return st.moved(Routing(queue.overflow, "overflow")), actions
        index, round_from = 0, waited  # the next round, in the same order
    if not order or waited >= queue.max_wait:
        return st.moved(Routing(queue.overflow, "overflow")), actions
    left = queue.max_wait - waited
    phase = InQueue(queue.queue_id, index, waited, st.at, order, together, round_from)
    if together:
        users = [snap.user_index[ext] for ext in order]
        ring_time = queue.ring_time or max(user.ring_time for user in users)
        timeout = min(ring_time, left)
        rings = tuple(RingUser(user.ext, user.user_id, timeout) for user in users)
        actions.append(RingGroup(rings, timeout))
        return st.moved(phase), actions
    user = snap.user_index[order[index]]
    actions.append(RingUser(user.ext, user.user_id, min(queue.ring_time or user.ring_time, left)))
    return st.moved(phase), actions


def on_queue(snap: DialplanSnapshot, st: CallState, event: Event) -> Result:
    phase = st.phase
    assert isinstance(phase, InQueue)
    queue = snap.queue_index[phase.queue_id]
    order = phase.order or queue.members
    rung = order if phase.together else (order[phase.index],)
    if isinstance(event, Answer):
        ext = event.by if event.by in rung else rung[0]
        user = snap.user_index[ext]
        connected = Connected(
            user.ext, "internal", phase.since, st.at, user.user_id, queue_id=queue.queue_id
        )
        return st.moved(connected), []
    outcome = _OUTCOMES.get(type(event))
    if outcome is None:
        return st, []
    logs: list[Action] = []
    for ext in rung:
        st, log = log_leg(
            snap,
            st,
            direction="internal",
            callee=ext,
            since=phase.since,
            disposition=outcome,
            user_id=snap.user_index[ext].user_id,
            queue_id=queue.queue_id,
        )
        logs.append(log)
    if isinstance(event, Hangup):
        return finish(snap, st, "abandoned", "", logs)
    waited = phase.waited + max(0.0, st.at - phase.since)
    if isinstance(event, Timer):
        waited = float(queue.max_wait)
    return _ring_member(snap, st, queue, order, phase.index + 1, waited, logs, phase.round_from)
