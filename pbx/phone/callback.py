"""Record by phone from a real phone: the worker takes "Initiera samtal" calls the web handed
over (`pbx.services.calls.phone_callbacks`) and INVITEs the user's phone.

`Callbacks` polls the database for hand-overs and claims each atomically (one worker wins).
A `CallbackCall` is an engine-driven call like an inbound `SipCall`, on the other side of the
dialog: its first operation is the engine's own `RingUser` (every phone registered for the
user's extension, forked) or `DialExternal` (their mobile through the trunk), placed by the
legs (`pbx.phone.legs`). The phone that answers *is* the call: its media become the call's
(nothing is bridged), and the engine hears `Answer` — instructions, the beep, the take
recorded from RTP until `#`, the timer or a hang-up, the review keys (1 listen, 2 again,
# save); the take is stored as a new version (source "phone") of the slot. 486/603 from a
phone that declines is `Busy`, no answer within the ring time `NoAnswer`; the call-log rows
are written by the driver as for every call, and the `live_calls` row follows (active,
ended with the engine's outcome) so the page can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy.orm import Session

from pbx.engine import actions as a
from pbx.engine.events import Dtmf, Event
from pbx.phone.endpoint import MediaEndpoint
from pbx.phone.engine_call import EngineCall, Op, Origin, SipPhone
from pbx.services.calls import phone_callbacks as handover
from pbx.services.calls.driver import CallDriver
from storage.blobs import BlobStore

if TYPE_CHECKING:
    from pbx.phone.worker import PhoneWorker

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


class CallbackPhone(SipPhone):
    """The SIP phone of a callback: also notes how the engine says the session ended."""

    finished_status: str | None = None

    def finished(self, action: a.CallbackFinished) -> None:
        self.finished_status = action.status


class CallbackCall(EngineCall):
    adopts_leg: ClassVar[bool] = True
    steps_on_loop: ClassVar[bool] = False  # every step writes the hand-over's progress

    def __init__(self, callbacks: Callbacks, claimed: handover.Claimed) -> None:
        worker = callbacks.worker
        origin = Origin(claimed.caller_id, claimed.number, claimed.tenant_id, claimed.actor, True)
        # Until a phone answers there is nothing to hear: a quiet endpoint stands in.
        super().__init__(worker, origin, worker.media.open_endpoint(claimed.call_id),
                         claimed.call_id)  # fmt: skip
        self.callbacks, self.claimed = callbacks, claimed

    def _begin(self, session: Session, blobs: BlobStore) -> list[Op]:
        self._ledger = handover.ledger(self.claimed, session)
        snapshot, state = self.claimed.snapshot, self.claimed.state
        self._driver = CallDriver(snapshot, state, CallbackPhone(self))
        return [("ring", self.claimed.ring)]

    def _feed(self, session: Session, blobs: BlobStore, events: list[Event]) -> list[Op]:
        ops = super()._feed(session, blobs, events)
        assert self._driver is not None
        phone = self._driver.phone
        assert isinstance(phone, CallbackPhone)
        handover.progress(session, self.call_id, self._driver.state, phone.finished_status)
        return ops

    def adopt(self, endpoint: MediaEndpoint) -> None:
        """The phone answered: its RTP endpoint is the call's from now on."""
        standing_in, self.endpoint = self.endpoint, endpoint
        standing_in.close()
        endpoint.on_key = lambda key: self.post(Dtmf(key, at=self.clock()))
        self.answered = True

    def _close_dialog(self, status: int, reason: str) -> None:
        """Nothing of our own: the leg hangs up the phone (BYE) or cancels it."""

    def _forget(self) -> None:
        self.callbacks.calls.pop(self.call_id, None)


class Callbacks:
    """The worker's record-by-phone calls: polls for hand-overs, claims and runs them."""

    def __init__(self, worker: PhoneWorker, poll_seconds: float = POLL_SECONDS) -> None:
        self.worker, self.poll_seconds = worker, poll_seconds
        self.ring_seconds: int | None = None  # None: the engine's ring time
        self.calls: dict[str, CallbackCall] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._poll(), name="callbacks")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for call in list(self.calls.values()):
            call.end(503, "Service Unavailable")
            await self.worker.switchboard.run(partial(_interrupted, call.call_id))

    async def _poll(self) -> None:
        while True:
            try:
                await self.once()
            except Exception:  # a database hiccup: try again at the next poll
                log.exception("record-by-phone poll failed")
            await asyncio.sleep(self.poll_seconds)

    async def once(self) -> list[str]:
        """Claim and start every waiting hand-over; returns the ids this worker took."""
        board = self.worker.switchboard
        found = await board.run(lambda session, blobs: handover.waiting(session), writes=False)
        taken = []
        for call_id in found:
            claimed = await board.run(partial(self._claim, call_id=call_id))
            if claimed is None:
                continue
            call = CallbackCall(self, claimed)
            self.calls[call_id] = call
            call.start()
            taken.append(call_id)
        return taken

    def _claim(
        self, session: Session, blobs: BlobStore, *, call_id: str
    ) -> handover.Claimed | None:
        if not handover.claim(session, call_id):
            return None
        return handover.load(session, blobs, call_id, self.ring_seconds)


def _interrupted(call_id: str, session: Session, blobs: BlobStore) -> None:
    handover.interrupted(session, call_id)
