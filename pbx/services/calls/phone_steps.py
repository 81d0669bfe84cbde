"""The browser softphone (and `pbx callback answer`) as a phone of the one driver.

A phone only plays, rings, beeps, records and waits; everything else the engine asks for
(storing a recording, saving or deleting a greeting, the call log) is the server's share in
`calls.driver` and never reaches the phone. What the phone must do next is kept as steps,
plain JSON, that the page (or the command line) works through; what it recorded arrives
with its next event and is kept per take in `live_call_takes` until the engine says what to
do with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pbx.engine import actions as a
from pbx.services.calls.driver import QuietPhone, Take
from storage.models import LiveCall, LiveCallTake

Step = dict[str, Any]


class StepsPhone(QuietPhone):
    """Turns the phone's half of the actions into steps; takes come from the call's rows."""

    def __init__(self, session: Session, call: LiveCall) -> None:
        self.session, self.call = session, call
        self.steps: list[Step] = []
        self.finished_status: str | None = None

    def play(self, action: a.PlayMessage) -> None:
        if not action.audio_ok:
            self.steps.append({"do": "missing", "name": action.slot_name})
        else:
            self.steps.append({"do": "play", "prompt": action.slot_id})

    def tone(self, action: a.PlayTone) -> None:
        self.steps.append({"do": "tone", "tone": action.tone})

    def start_timer(self, action: a.StartTimer) -> None:
        self.steps.append({"do": "timer", "seconds": action.seconds})

    def ring(self, action: a.RingUser | a.DialExternal) -> None:
        step: Step = {"do": "ring", "seconds": action.timeout}
        if isinstance(action, a.RingUser):
            step["extension"] = action.ext
        self.steps.append(step)

    def record(self, action: a.RecordInto) -> None:
        self.steps.append({"do": "record", "take": action.take, "max_seconds": action.max_seconds})

    def play_take(self, action: a.PlayRecording) -> None:
        self.steps.append({"do": "play_take", "take": action.take})

    def hang_up(self, action: a.HangUp) -> None:
        self.steps.append({"do": "hangup", "reason": action.reason})

    def finished(self, action: a.CallbackFinished) -> None:
        self.finished_status = action.status
        self.steps.append({"do": "finished", "status": action.status})

    def take(self, take: int) -> Take | None:
        recorded = take_of(self.session, self.call, take)
        if recorded is None:
            return None
        return Take(recorded.master, recorded.duration_ms, recorded.original)

    def discard(self, take: int | None) -> None:
        drop_takes(self.session, self.call, take)


def take_of(session: Session, call: LiveCall, take: int) -> LiveCallTake | None:
    stmt = select(LiveCallTake).where(LiveCallTake.call_id == call.id, LiveCallTake.take == take)
    return session.scalar(stmt.order_by(LiveCallTake.id.desc()).limit(1))


def drop_takes(session: Session, call: LiveCall, take: int | None = None) -> None:
    """Forget takes (one, or all when the call ends): a recording is stored or gone."""
    stmt = delete(LiveCallTake).where(LiveCallTake.call_id == call.id)
    if take is not None:
        stmt = stmt.where(LiveCallTake.take == take)
    session.execute(stmt)
