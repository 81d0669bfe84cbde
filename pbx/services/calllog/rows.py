"""The engine's call-log legs as `call_log` rows.

The engine speaks in its own words (dispositions such as `unreachable` or `routing_loop`,
directions `service` and `callback`, users as `str(users.id)`, times as seconds since the
call started); the call log keeps a short fixed vocabulary (`storage.models.calllog`) and
wall-clock UTC times. The mapping lives here so `pbx call`, the test-call page and the
traffic generator write identical rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pbx.engine.actions import CallLogLeg

# The engine's words → the call log's. Every way of running a call writes through here
# (`calls.driver`), so a row's direction and disposition are always in `storage.models`'
# lists (DIRECTIONS, DISPOSITIONS), which the page, its filter, its labels and the export use.
DIRECTIONS: dict[str, str] = {"service": "internal", "callback": "outbound"}
ENGINE_DISPOSITIONS: dict[str, str] = {
    "answered": "answered",
    "voicemail": "voicemail",
    "busy": "busy",
    "no_answer": "no_answer",
    "unavailable": "no_answer",
    "refused": "refused",
    "abandoned": "abandoned",
    "cancelled": "abandoned",  # record by phone: the user's phone stopped ringing
    "service": "answered",  # 333: the mailbox answered
    "recorded": "answered",  # record by phone: the message was recorded
    "silent": "answered",  # record by phone: answered, nothing was said
    "service_failed": "failed",
    "pin_failed": "failed",
}


def disposition(leg: CallLogLeg) -> str:
    """The call log's word for how a leg ended (`failed` for the engine's error endings:
    unreachable, unknown number or slot, routing loop, step limit)."""
    if leg.disposition == "hung_up":  # the switchboard answered and said goodbye
        return "answered" if leg.answered_at is not None else "abandoned"
    return ENGINE_DISPOSITIONS.get(leg.disposition, "failed")


def direction(leg: CallLogLeg) -> str:
    return DIRECTIONS.get(leg.direction, leg.direction)


def user_of(leg: CallLogLeg, user_ids: Mapping[str, int]) -> int | None:
    """The user a leg belongs to: the one rung, else the one whose forwarding placed it.
    `user_ids` maps extensions to `users.id`."""
    if leg.user_id is not None and leg.user_id.isdigit():
        return int(leg.user_id)
    if leg.forwarded_from is not None:
        return user_ids.get(leg.forwarded_from)
    return None


def rows_of(
    legs: Sequence[CallLogLeg], start: datetime, user_ids: Mapping[str, int]
) -> list[dict[str, Any]]:
    """One call's legs as rows; leg 1 (the whole call) belongs to the first user reached."""
    owners = [user_of(leg, user_ids) for leg in legs]
    first = next((owner for owner in owners if owner is not None), None)
    return [
        row_of(leg, start, owner if owner is not None or leg.leg != 1 else first)
        for leg, owner in zip(legs, owners, strict=True)
    ]


def row_of(leg: CallLogLeg, start: datetime, user_id: int | None) -> dict[str, Any]:
    answered = leg.answered_at
    return {
        "call_id": leg.call_id,
        "leg": leg.leg,
        "tenant_id": int(leg.tenant_id),
        "user_id": user_id,
        "caller": leg.caller[:16],
        "callee": leg.callee[:16],
        "direction": direction(leg),
        "started_at": start + timedelta(seconds=leg.started_at),
        "answered_at": None if answered is None else start + timedelta(seconds=answered),
        "ended_at": start + timedelta(seconds=leg.ended_at),
        "disposition": disposition(leg),
        "forwarded_to": leg.forwarded_to[:16] if leg.forwarded_to else None,
        "refused_reason": leg.refused_reason[:40] if leg.refused_reason else None,
        "queue_id": queue_id_of(leg),
    }


def queue_id_of(leg: CallLogLeg) -> int | None:
    """The `queues.id` a leg rang from (the snapshot names a queue by it as a string)."""
    queue = leg.queue_id
    return int(queue) if queue is not None and queue.isdigit() else None
