"""The engine's actions as steps for a phone (the browser softphone or the command line).

A phone only plays, rings, beeps, records and waits; everything else the engine asks for
(storing a recording, saving or deleting a greeting, the call log) is done by the server in
`live_call_effects` and never reaches the phone. Steps are plain JSON.
"""

from __future__ import annotations

from typing import Any

from pbx.engine import actions as a

Step = dict[str, Any]


def phone_steps(actions: list[a.Action]) -> list[Step]:
    steps: list[Step] = []
    for action in actions:
        step = _step(action)
        if step is not None:
            steps.append(step)
    return steps


def _step(action: a.Action) -> Step | None:  # noqa: PLR0911 - one line per kind of action
    if isinstance(action, a.PlayMessage):
        if not action.audio_ok:
            return {"do": "missing", "name": action.slot_name}
        return {"do": "play", "prompt": action.slot_id}
    if isinstance(action, a.PlayTone):
        return {"do": "tone", "tone": action.tone}
    if isinstance(action, a.StartTimer):
        return {"do": "timer", "seconds": action.seconds}
    if isinstance(action, a.DialExternal):
        return {"do": "ring", "seconds": action.timeout}
    if isinstance(action, a.RingUser):
        return {"do": "ring", "seconds": action.timeout, "extension": action.ext}
    if isinstance(action, a.RecordInto):
        return {"do": "record", "take": action.take, "max_seconds": action.max_seconds}
    if isinstance(action, a.PlayRecording):
        return {"do": "play_take", "take": action.take}
    if isinstance(action, a.CallbackFinished):
        return {"do": "finished", "status": action.status}
    if isinstance(action, a.HangUp):
        return {"do": "hangup", "reason": action.reason}
    return None
