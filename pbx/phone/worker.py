"""A call worker: the SIP front of the switchboard (`pbx phone serve`).

It listens for SIP on UDP and TCP, keeps one media tick for all its calls, and answers:

- REGISTER from a user's phone, with digest authentication (SHA-256, MD5 for old phones);
  registrations are written to the database, so every worker can ring every phone.
- INVITE from the carrier trunk (its addresses are configured) to a company number, or from a
  registered phone (digest again) to anything the engine routes: an extension, 333, a
  company number, an outside number. Anyone else gets 403 and is audited; no open relay.
- ACK, BYE, CANCEL and INFO (keys) within a call; OPTIONS (health probes) with 200;
  re-INVITE is refused cleanly (488); other methods get 405.

Floods and scanners are dropped by the `FloodGuard`; failed digest attempts are audited and
count towards blocking the source. The routing, the recordings and the call log are the
engine's and the services', reached through the `Switchboard`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from pbx.engine import actions as a
from pbx.engine.events import Dtmf, Unavailable
from pbx.phone.call import SipCall
from pbx.phone.edge import Edge
from pbx.phone.engine_call import Origin
from pbx.phone.guard import FloodGuard
from pbx.phone.media import MediaConfig, MediaEngine
from pbx.phone.switchboard import Switchboard
from pbx.phone.transport import Message, Peer, SipTransport, TransportConfig
from pbx.policies.destinations import InvalidNumber, parse_e164
from pbx.services.audit import log as audit
from pbx.services.common.actor import Actor, cli_actor
from pbx.services.people import phones
from pbx.sip import build, digest, dtmf, sdp
from pbx.sip.errors import DtmfError, NoCommonCodec, SdpError, SipParseError
from pbx.sip.headers import parse_name_addr
from pbx.sip.message import SipRequest, SipResponse
from storage.blobs import BlobStore
from storage.models import User

log = logging.getLogger(__name__)
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO"
SIP_ACTOR = cli_actor("sip")
MD5_ONLY_AGENTS = ("baresip",)


@dataclass(frozen=True)
class Trunk:
    """The carrier: the addresses its calls come from ("host" or "host:port"), and where
    calls to outside numbers go (None: no outside legs can be placed)."""

    hosts: tuple[str, ...] = ()
    address: tuple[str, int] | None = None

    def allows(self, peer: Peer) -> bool:
        return peer.host in self.hosts or f"{peer.host}:{peer.port}" in self.hosts


@dataclass
class Caller:
    """A digest-authenticated phone."""

    user_id: int
    tenant_id: int
    extension: str
    actor: Actor


@dataclass
class PhoneWorker:
    switchboard: Switchboard
    transport_config: TransportConfig = field(default_factory=TransportConfig)
    media_config: MediaConfig = field(default_factory=MediaConfig)
    trunk: Trunk = field(default_factory=Trunk)
    guard: FloodGuard = field(default_factory=FloodGuard)
    edge: Edge = field(default_factory=Edge)  # Kamailio in front: it names the real source
    nonce_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    calls: dict[str, SipCall] = field(default_factory=dict)
    transport: SipTransport = field(init=False)
    media: MediaEngine = field(init=False)

    def __post_init__(self) -> None:
        self.transport = SipTransport(self.handle, self.transport_config)
        self.media = MediaEngine(self.media_config)
        from pbx.phone.callback import Callbacks  # record by phone: hand-overs of the web
        from pbx.phone.legs import Legs  # legs need the worker's transport and media

        self.legs = Legs(self)
        self.callbacks = Callbacks(self)

    async def start(self) -> None:
        await self.media.start()
        await self.transport.start()
        self.callbacks.start()

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Stop: callbacks first, then every call is wound down through the engine (its
        voicemail kept, its call-log row written, a BYE sent); a call still open after
        `grace_seconds` (a database that does not answer) is ended without the engine."""
        await self.callbacks.close()
        for call in list(self.calls.values()):
            call.wind_down()
        deadline = asyncio.get_running_loop().time() + grace_seconds
        while self.calls and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for call in list(self.calls.values()):
            call.end(503, "Service Unavailable")
        await self.transport.close()
        await self.media.close()
        self.switchboard.close()

    @property
    def host(self) -> str:
        return self.transport_config.host

    @property
    def port(self) -> int:
        return self.transport.port

    def contact_uri(self, peer: Peer) -> str:
        transport = ";transport=tcp" if peer.protocol == "tcp" else ""
        return f"<sip:vaxel@{self.host}:{self.port}{transport}>"

    def forget(self, call: SipCall) -> None:
        self.calls.pop(call.call_id, None)

    def ring(self, call: SipCall, action: a.RingUser | a.DialExternal) -> None:
        self.legs.ring(call, action)

    # --- dispatch --------------------------------------------------------------------

    async def handle(self, message: Message, peer: Peer) -> None:
        if isinstance(message, SipResponse):
            self.legs.on_response(message, peer)
            return
        if not self._admitted(message, peer):
            return
        handler = getattr(self, f"_on_{message.method.lower()}", None)
        if handler is None:
            self._reply(message, peer, 405, "Method Not Allowed", [("Allow", ALLOW)])
            return
        try:
            await handler(message, peer)
        except SipParseError as exc:
            self._reply(message, peer, exc.status, exc.reason)

    def _admitted(self, request: SipRequest, peer: Peer) -> bool:
        """The flood guard looks at every request but the ACK and those of the trunk (the
        carrier brings every company's calls from a few addresses: its volume is no flood)
        and of the edge itself (its probes); behind the edge, at the source it names."""
        source = self.edge.source(request, peer)
        if request.method == "ACK" or source is None or self.trunk.allows(source):
            return True
        agent = request.headers.get("User-Agent") or ""
        return self.guard.allow(source.host, time.monotonic(), agent)

    def _reply(
        self,
        request: SipRequest,
        peer: Peer,
        status: int,
        reason: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        with contextlib.suppress(Exception):
            self.transport.send(
                build.response_to(request, status, reason, headers=headers or ()), peer
            )

    async def _on_options(self, request: SipRequest, peer: Peer) -> None:
        self._reply(request, peer, 200, "OK", [("Allow", ALLOW), ("Accept", sdp.SDP_CONTENT_TYPE)])

    async def _on_ack(self, request: SipRequest, peer: Peer) -> None:
        call = self.calls.get(request.call_id)
        if call is not None:
            call.on_ack()

    async def _on_bye(self, request: SipRequest, peer: Peer) -> None:
        call = self.calls.get(request.call_id)
        if call is not None:
            call.on_bye(request, peer)
        elif not self.legs.on_bye(request, peer):
            self._reply(request, peer, 481, "Call/Transaction Does Not Exist")

    async def _on_cancel(self, request: SipRequest, peer: Peer) -> None:
        call = self.calls.get(request.call_id)
        if call is None:
            self._reply(request, peer, 481, "Call/Transaction Does Not Exist")
        else:
            call.on_cancel(request, peer)

    async def _on_info(self, request: SipRequest, peer: Peer) -> None:
        call = self.calls.get(request.call_id) or self.legs.call_for(request.call_id)
        if call is None:
            self._reply(request, peer, 481, "Call/Transaction Does Not Exist")
            return
        try:
            key = dtmf.parse_info(request.content_type, request.body)
        except DtmfError:
            self._reply(
                request,
                peer,
                415,
                "Unsupported Media Type",
                [("Accept", ", ".join(dtmf.INFO_TYPES))],
            )
            return
        self._reply(request, peer, 200, "OK")
        if key in "0123456789*#":
            call.post(Dtmf(key, at=call.clock()))

    # --- registrations ---------------------------------------------------------------

    async def _on_register(self, request: SipRequest, peer: Peer) -> None:
        caller = await self._authenticate(request, peer)
        if caller is None:
            return
        contact_header = request.headers.get("Contact") or ""
        expires = _expires(request)
        if not contact_header:  # a query: nothing to change
            self._reply(request, peer, 200, "OK")
            return
        contact = _contact_of(contact_header, peer, caller.user_id)
        agent = request.headers.get("User-Agent") or ""

        def work(session: Session, blobs: BlobStore) -> int:
            account = phones.account_by_user(session, caller.user_id)
            assert account is not None
            return phones.register(session, account, contact, expires, agent)

        granted = await self.switchboard.run(work)
        headers = [("Contact", f"<{contact.contact}>;expires={granted}"), ("Expires", str(granted))]
        self._reply(request, peer, 200, "OK", headers)

    async def _authenticate(self, request: SipRequest, peer: Peer) -> Caller | None:
        """The phone behind a request, by digest; challenges or refuses (and audits) when
        it cannot be known. Returns None when the request was answered here."""
        value = request.headers.get("Authorization") or request.headers.get("Proxy-Authorization")
        now = time.time()
        if not value:
            self._challenge(request, peer, now)
            return None
        realm, box = self.switchboard.realm, self.switchboard.secret_box

        def work(session: Session, blobs: BlobStore) -> Caller | str:
            def lookup(username: str) -> digest.Secret | None:
                found = phones.password_for(session, box, username)
                return digest.Password(found[1]) if found else None

            try:
                username = digest.verify(
                    value, method=request.method, uri=request.uri, realm=realm,
                    secret=self.nonce_secret, now=now, lookup=lookup,
                )  # fmt: skip
            except digest.StaleNonce:
                return "stale"
            except digest.DigestRejected as exc:
                _audit_failure(session, request, self.edge.source(request, peer) or peer, str(exc))
                return "refused"
            return _caller(session, box, username)

        result = await self.switchboard.run(work)
        if result == "stale":
            self._challenge(request, peer, now, stale=True)
            return None
        source = self.edge.source(request, peer) or peer
        if not isinstance(result, Caller):
            self.guard.failed_auth(source.host, time.monotonic())
            self._reply(request, peer, 403, "Forbidden")
            return None
        self.guard.succeeded(source.host)
        return result

    def _challenge(self, request: SipRequest, peer: Peer, now: float, stale: bool = False) -> None:
        values = digest.challenges(self.switchboard.realm, self.nonce_secret, now, stale=stale)
        if _md5_only(request.headers.get("User-Agent") or ""):
            values = [value for value in values if "algorithm=MD5" in value]
        self._reply(request, peer, 401, "Unauthorized", [("WWW-Authenticate", v) for v in values])

    # --- calls -----------------------------------------------------------------------

    async def _on_invite(self, request: SipRequest, peer: Peer) -> None:
        if request.to.tag is not None:  # a re-INVITE: we keep the session as it is
            self._reply(request, peer, 488, "Not Acceptable Here")
            return
        if request.call_id in self.calls:  # a retransmission: the call already runs
            return
        origin = await self._origin(request, peer)
        if origin is None:
            return
        try:
            offer = sdp.parse_sdp(request.body)
        except SdpError:
            self._reply(request, peer, 400, "Bad SDP")
            return
        endpoint = self.media.open_endpoint(request.call_id)
        try:
            body, choice = sdp.answer_offer(
                offer, port=endpoint.local_port, session_id=secrets.randbelow(10**9),
                address=self.media_config.host,
            )  # fmt: skip
            endpoint.use(choice)
        except NoCommonCodec:
            endpoint.close()
            self._reply(request, peer, 488, "Not Acceptable Here")
            return
        except (SdpError, Exception):
            endpoint.close()
            self._reply(request, peer, 488, "Not Acceptable Here")
            return
        self._reply(request, peer, 100, "Trying")
        call = SipCall(self, request, peer, origin, endpoint, body)
        self.calls[request.call_id] = call
        call.start()

    async def _origin(self, request: SipRequest, peer: Peer) -> Origin | None:
        dialled = request_user(request.uri)
        source = self.edge.source(request, peer)
        if source is not None and self.trunk.allows(source):
            return await self._from_trunk(request, peer, dialled)
        caller = await self._authenticate(request, peer)
        if caller is None:
            return None
        return Origin(
            caller.extension, _e164_or_same(dialled), caller.tenant_id, caller.actor, True
        )

    async def _from_trunk(self, request: SipRequest, peer: Peer, dialled: str) -> Origin | None:
        number = _e164_or_same(dialled)
        caller = _e164_or_same(request.from_.user) or "anonymous"
        board = self.switchboard
        tenant_id = board.cached_owner(number)
        if tenant_id is None:
            tenant_id = await board.run(
                lambda session, blobs: board.owner_of_number(session, number), writes=False
            )
        if tenant_id is None:
            self._reply(request, peer, 404, "Not Found")
            return None
        return Origin(caller, number, tenant_id, SIP_ACTOR, False)

    def unavailable(self, call: SipCall) -> None:
        call.post(Unavailable(at=call.clock()))


def _md5_only(user_agent: str) -> bool:
    """Phones that fail on any challenge they cannot answer instead of picking one they can
    (RFC 8760 §2.4): libre-based baresip before SHA-256 support fails REGISTER with ENOSYS
    when a SHA-256 challenge is among them. They are offered MD5 alone; everyone else
    SHA-256 first, then MD5."""
    return user_agent.lower().startswith(MD5_ONLY_AGENTS)


def request_user(uri: str) -> str:
    """The user part of a Request-URI (`sip:+46852001000@host` → `+46852001000`)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    user, at, _ = rest.partition("@")
    return (user if at else "").split(";")[0]


def _e164_or_same(text: str) -> str:
    if text.startswith("+"):
        with contextlib.suppress(InvalidNumber):
            return parse_e164(text)
    return text[:32]


def _expires(request: SipRequest) -> int:
    contact = request.headers.get("Contact") or ""
    if contact.strip() == "*":
        return 0
    for part in contact.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "expires" and value.strip().isdigit():
            return int(value)
    header = (request.headers.get("Expires") or "").strip()
    return int(header) if header.isdigit() else phones.DEFAULT_EXPIRES


def _contact_of(value: str, peer: Peer, user_id: int) -> phones.Contact:
    uri = "*" if value.strip() == "*" else parse_name_addr(value.split(",")[0]).uri
    return phones.Contact(user_id, uri, peer.protocol, peer.host, peer.port)


def _caller(session: Session, box: object, username: str) -> Caller | str:
    account = phones.account_by_username(session, username)
    user = session.get(User, account.user_id) if account is not None else None
    if user is None or user.tenant_id is None or not user.extension or user.status != "active":
        return "refused"
    actor = Actor(user.id, user.email, user.role, user.tenant_id)
    return Caller(user.id, user.tenant_id, user.extension, actor)


def _audit_failure(session: Session, request: SipRequest, peer: Peer, why: str) -> None:
    """Failed phone logins are audited like web logins (never with the password)."""
    username = ""
    with contextlib.suppress(digest.DigestRejected):
        value = (
            request.headers.get("Authorization") or request.headers.get("Proxy-Authorization") or ""
        )
        username = digest.parse_authorization(value).username[:64]
    audit.record(
        session, Actor(None, "sip", "system", None, peer.host), "phone.auth_failed",
        new={"username": username, "method": request.method, "reason": why[:80]},
    )  # fmt: skip
