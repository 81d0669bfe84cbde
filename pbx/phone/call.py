"""A caller's INVITE (from a phone or the trunk) that the switchboard answers: the SIP
side of an `EngineCall` when we are the user agent server. The 200 OK is repeated until the
ACK, a BYE must match the dialog (Call-ID and both tags), and a CANCEL before the answer is
487; what the call does is the engine's (`pbx.phone.engine_call`)."""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from pbx.engine import DialplanSnapshot
from pbx.engine.events import Dial, Hangup
from pbx.engine.states import new_call
from pbx.phone.dialog import ServerDialog
from pbx.phone.endpoint import MediaEndpoint
from pbx.phone.engine_call import EngineCall, Op, Origin, SipPhone
from pbx.phone.transport import Peer, Retransmission
from pbx.services.calls.driver import CallDriver, CallLedger
from pbx.sip import build, sdp
from pbx.sip.message import SipRequest
from storage.blobs import BlobStore
from storage.models import utcnow

if TYPE_CHECKING:
    from pbx.phone.worker import PhoneWorker

log = logging.getLogger(__name__)


class SipCall(EngineCall):
    """A caller's INVITE (from a phone or the trunk) that we answer: we are the UAS."""

    def __init__(
        self,
        worker: PhoneWorker,
        invite: SipRequest,
        peer: Peer,
        origin: Origin,
        endpoint: MediaEndpoint,
        answer_sdp: bytes,
    ) -> None:
        super().__init__(worker, origin, endpoint, invite.call_id)
        self.invite, self.peer, self.answer_sdp = invite, peer, answer_sdp
        self.to_tag = secrets.token_hex(8)
        self.dialog = ServerDialog.of(worker, invite, peer, self.to_tag)
        self.acked = False
        self._ok: Retransmission | None = None

    def _begin_here(self) -> list[Op] | None:
        snapshot = self.worker.switchboard.cached_snapshot(self.origin.tenant_id)
        if snapshot is None:
            return None
        self._start_driver(snapshot)
        ops = self._feed_here([self._dial()])
        if ops is None:  # the driver starts again on the thread, from the same state
            self._driver = self._ledger = None
        return ops

    def _begin(self, session: Session, blobs: BlobStore) -> list[Op]:
        board, origin = self.worker.switchboard, self.origin
        self._start_driver(board.snapshot(session, blobs, origin.tenant_id))
        return self._feed(session, blobs, [self._dial()])

    def _dial(self) -> Dial:
        origin = self.origin
        return Dial(origin.caller, origin.dialled, caller_verified=origin.verified)

    def _start_driver(self, snapshot: DialplanSnapshot) -> None:
        self._ledger = CallLedger.for_snapshot(snapshot, self.call_id[:64], utcnow())
        self._driver = CallDriver(snapshot, new_call(self.call_id[:64]), SipPhone(self))

    # --- SIP dialog ------------------------------------------------------------------

    def _answer(self) -> None:
        """200 OK with our SDP, repeated until the ACK (RFC 3261 §13.3.1.4)."""
        if self.answered or self.ended:
            return
        self.answered = True
        ok = build.response_to(
            self.invite, 200, "OK", to_tag=self.to_tag,
            headers=[("Contact", self.worker.contact_uri(self.peer))],
            body=self.answer_sdp, content_type=sdp.SDP_CONTENT_TYPE,
        )  # fmt: skip
        self._ok = self.worker.transport.send_reliably(ok, self.peer, self._no_ack)

    def _no_ack(self) -> None:
        log.info("call %s: no ACK for our 200 OK; ending it", self.call_id)
        self.post(Hangup(at=self.clock()))

    def on_ack(self) -> None:
        self.acked = True
        if self._ok is not None:
            self._ok.stop()

    def on_bye(self, request: SipRequest, peer: Peer) -> None:
        if not self.dialog.matches(request):  # the Call-ID alone is no proof (§12.2.2)
            reply = build.response_to(request, 481, "Call/Transaction Does Not Exist")
            with contextlib.suppress(Exception):
                self.worker.transport.send(reply, peer)
            return
        self.worker.transport.send(build.response_to(request, 200, "OK"), peer)
        self._far_end_gone()

    def on_cancel(self, request: SipRequest, peer: Peer) -> None:
        self.worker.transport.send(build.response_to(request, 200, "OK"), peer)
        if not self.answered:
            self._respond(487, "Request Terminated")
        self._far_end_gone()

    def _close_dialog(self, status: int, reason: str) -> None:
        if self._ok is not None:
            self._ok.stop()
        if self._gone:
            return
        if self.answered:
            self.dialog.bye()
        else:
            self._respond(status, reason)

    def _forget(self) -> None:
        self.worker.forget(self)

    def _respond(self, status: int, reason: str) -> None:
        response = build.response_to(self.invite, status, reason, to_tag=self.to_tag)
        with contextlib.suppress(Exception):
            self.worker.transport.send(response, self.peer)

    def ringing(self) -> None:
        """180 Ringing (provisional, no SDP) while a leg rings before anything is heard."""
        if not self.answered and not self.ended:
            ring = build.response_to(self.invite, 180, "Ringing", to_tag=self.to_tag)
            self.worker.transport.send(ring, self.peer)
