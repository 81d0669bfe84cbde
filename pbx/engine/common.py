"""Helpers shared by the phase handlers: playing slots with fallbacks, call-log legs and
ending a call."""

from __future__ import annotations

from collections.abc import Callable

from pbx.engine.actions import (
    Action,
    CallLogLeg,
    Direction,
    HangUp,
    PlayMessage,
    PlayTone,
    WriteCallLog,
)
from pbx.engine.dialplan import DialplanSnapshot, ForwardKind
from pbx.engine.states import CallState, Ended, Phase

Result = tuple[CallState, list[Action]]

FALLBACK_TONE = PlayTone("fallback")
BEEP = PlayTone("beep")


def play(
    snap: DialplanSnapshot,
    slot_id: str | None,
    fallback: str | None = None,
    *,
    required: bool = False,
) -> list[Action]:
    """Actions to play `slot_id`. A missing audio (or unknown slot) is marked and followed by
    `fallback` (a slot) or the fallback tone; an unset optional slot plays nothing."""
    key = ("play", slot_id, fallback, required)
    known = snap.action_memo.get(key)
    if known is None:
        known = snap.action_memo[key] = tuple(_play(snap, slot_id, fallback, required))
    return list(known)


def memoised(
    snap: DialplanSnapshot, key: tuple[str | bool | None, ...], build: Callable[[], list[Action]]
) -> list[Action]:
    """Actions that depend only on the snapshot, built once per snapshot."""
    known = snap.action_memo.get(key)
    if known is None:
        known = snap.action_memo[key] = tuple(build())
    return list(known)


def _play(
    snap: DialplanSnapshot, slot_id: str | None, fallback: str | None, required: bool
) -> list[Action]:
    if slot_id is None:
        if fallback is not None:
            return _play(snap, fallback, None, required)
        return [FALLBACK_TONE] if required else []
    slot = snap.slot_index.get(slot_id)
    if slot is not None and slot.audio_ok:
        return [PlayMessage(slot_id, slot.name, True)]
    marker = PlayMessage(slot_id, slot.name if slot else "", False)
    if fallback is not None and fallback != slot_id:
        return [marker, *_play(snap, fallback, None, True)]
    return [marker, FALLBACK_TONE]


def answered_in(st: CallState, phase: Phase) -> CallState:
    """`st` moved to `phase`, answered from now if it was not yet."""
    if st.answered_at is not None:
        return st.moved(phase)
    return st.evolve(phase=phase, answered_at=st.at)


def answered(st: CallState) -> CallState:
    """The switchboard (or a person) picked up: leg 1 counts as answered from now."""
    if st.answered_at is not None:
        return st
    return st.evolve(answered_at=st.at)


def log_leg(
    snap: DialplanSnapshot,
    st: CallState,
    *,
    direction: Direction,
    callee: str,
    since: float,
    disposition: str,
    answered_at: float | None = None,
    user_id: str | None = None,
    forwarded_from: str | None = None,
    forward_kind: ForwardKind | None = None,
    forwarded_to: str | None = None,
    refused_reason: str | None = None,
    queue_id: str | None = None,
) -> tuple[CallState, WriteCallLog]:
    """A call-log row for a leg that has just ended, numbered in order of ending."""
    leg = CallLogLeg(
        st.call_id,
        st.next_leg,
        snap.tenant_id,
        direction,
        st.caller,
        callee,
        since,
        answered_at,
        st.at,
        disposition,
        user_id,
        forwarded_from,
        forward_kind,
        forwarded_to,
        refused_reason,
        queue_id,
    )
    return st.leg_written(), WriteCallLog(leg)


def finish(
    snap: DialplanSnapshot,
    st: CallState,
    disposition: str,
    reason: str = "",
    before: list[Action] | None = None,
) -> Result:
    """End the call: write leg 1 (the call itself) and hang up."""
    leg = CallLogLeg(
        st.call_id,
        1,
        snap.tenant_id,
        st.direction,
        st.caller,
        st.dialled,
        0.0,
        st.answered_at,
        st.at,
        disposition,
        forwarded_to=st.forwarded_to,
    )
    actions = list(before or [])
    actions += [WriteCallLog(leg), HangUp(reason or disposition)]
    return st.moved(Ended(disposition, reason)), actions


def unreachable(
    snap: DialplanSnapshot, st: CallState, reason: str, before: list[Action] | None = None
) -> Result:
    """Nobody can take the call: tell the caller and hang up."""
    actions = list(before or [])
    actions += play(snap, snap.prompts.unavailable, required=True)
    return finish(snap, answered(st), "unreachable", reason, actions)
