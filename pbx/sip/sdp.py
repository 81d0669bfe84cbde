"""SDP offer/answer for G.711 audio plus RFC 4733 keys (RFC 4566, RFC 3264).

We speak PCMU (payload type 0) and PCMA (8) at 8 kHz and `telephone-event`; the answer takes
the first of those in the *offerer's* order (§6.1 of RFC 3264: the offerer's preference
wins when the answerer has none) and keeps the offerer's dynamic payload type for
`telephone-event`. Every m-line of the offer gets one in the answer, in order; streams we do
not take are refused with port 0. Our own address is a parameter, 127.0.0.1 by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from pbx.sip.errors import NoCommonCodec, SdpError

LOOPBACK = "127.0.0.1"
SDP_CONTENT_TYPE = "application/sdp"
SPOKEN = ("PCMU", "PCMA")
STATIC = {0: ("PCMU", 8000), 3: ("GSM", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000),
          18: ("G729", 8000)}  # fmt: skip
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
           "inactive": "inactive"}  # fmt: skip
_PROTOS = ("RTP/AVP", "RTP/AVPF")
MAX_SDP_LINES = 200


@dataclass(frozen=True, slots=True)
class Codec:
    pt: int
    name: str
    rate: int = 8000
    fmtp: str = ""


@dataclass(frozen=True, slots=True)
class MediaLine:
    kind: str
    port: int
    proto: str
    formats: tuple[str, ...]
    codecs: tuple[Codec, ...]
    address: str | None
    ptime: int | None
    direction: str | None


@dataclass(frozen=True, slots=True)
class SessionDescription:
    address: str | None  # the session-level c= address
    direction: str  # the session-level direction, sendrecv when absent
    media: tuple[MediaLine, ...]


@dataclass(frozen=True, slots=True)
class MediaChoice:
    """What a negotiation settled: the voice codec, the key payload, where to send."""

    codec: Codec
    dtmf: Codec | None
    remote_address: str
    remote_port: int
    ptime: int
    direction: str  # ours: sendrecv, sendonly (we only send), recvonly, inactive


def parse_sdp(body: bytes) -> SessionDescription:
    """SDP text → a description; anything unreadable raises SdpError (→ 400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines or lines[0].strip() != "v=0" or len(lines) > MAX_SDP_LINES:
        raise SdpError("not an SDP body (v=0 first)")
    session: list[str] = []
    blocks: list[list[str]] = []
    for line in lines:
        if len(line) < 2 or line[1] != "=":
            raise SdpError(f"bad SDP line {line[:40]!r}")
        if line.startswith("m="):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            session.append(line)
    address, direction = _connection(session), _direction(session) or "sendrecv"
    return SessionDescription(address, direction, tuple(_media(b) for b in blocks))


def _connection(lines: list[str]) -> str | None:
    for line in lines:
        if line.startswith("c="):
            parts = line[2:].split()
            if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
                raise SdpError(f"bad c= line {line[:40]!r}")
            return parts[2].split("/")[0]
    return None


def _direction(lines: list[str]) -> str | None:
    """The last direction attribute among `lines` (a=sendonly...), None when absent."""
    found = [line[2:].strip() for line in lines if line[2:].strip() in DIRECTIONS]
    return found[-1] if found else None


def _media(block: list[str]) -> MediaLine:
    parts = block[0][2:].split()
    if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
        raise SdpError(f"bad m= line {block[0][:60]!r}")
    port = int(parts[1].split("/")[0])
    if port > 65535:
        raise SdpError("m= port out of range")
    formats = tuple(parts[3:])
    maps, fmtps, ptime = _attributes(block[1:])
    codecs = tuple(c for c in (_codec(f, maps, fmtps) for f in formats) if c is not None)
    return MediaLine(
        parts[0], port, parts[2], formats, codecs, _connection(block[1:]), ptime,
        _direction(block[1:]),
    )  # fmt: skip


def _attributes(lines: list[str]) -> tuple[dict[int, tuple[str, int]], dict[int, str], int | None]:
    maps: dict[int, tuple[str, int]] = {}
    fmtps: dict[int, str] = {}
    ptime: int | None = None
    for line in lines:
        name, _, value = line[2:].partition(":")
        if line.startswith("a=rtpmap:"):
            pt_text, _, encoding = value.partition(" ")
            enc_parts = encoding.strip().split("/")
            if pt_text.isdigit() and len(enc_parts) >= 2 and enc_parts[1].isdigit():
                maps[int(pt_text)] = (enc_parts[0], int(enc_parts[1]))
        elif line.startswith("a=fmtp:"):
            pt_text, _, params = value.partition(" ")
            if pt_text.isdigit():
                fmtps[int(pt_text)] = params.strip()
        elif name == "a=ptime" or line.startswith("a=ptime:"):
            ptime = int(value) if value.strip().isdigit() and 0 < int(value) <= 200 else None
    return maps, fmtps, ptime


def _codec(fmt: str, maps: dict[int, tuple[str, int]], fmtps: dict[int, str]) -> Codec | None:
    if not fmt.isdigit() or int(fmt) > 127:
        return None
    pt = int(fmt)
    name, rate = maps.get(pt) or STATIC.get(pt) or ("", 0)
    if not name:
        return None
    return Codec(pt, name, rate, fmtps.get(pt, ""))


def choose(media: MediaLine) -> tuple[Codec, Codec | None] | None:
    """Our voice codec and the key payload in one audio stream, or None."""
    if media.kind != "audio" or media.port == 0 or media.proto not in _PROTOS:
        return None
    voice = next((c for c in media.codecs if c.name.upper() in SPOKEN and c.rate == 8000), None)
    if voice is None:
        return None
    dtmf = next(
        (c for c in media.codecs if c.name.lower() == "telephone-event" and c.rate == 8000),
        None,
    )
    return Codec(voice.pt, voice.name.upper()), dtmf


def _pick(desc: SessionDescription) -> tuple[int, Codec, Codec | None]:
    for index, media in enumerate(desc.media):
        chosen = choose(media)
        if chosen is not None:
            return index, *chosen
    if not any(m.kind == "audio" for m in desc.media):
        raise NoCommonCodec("no audio stream")
    raise NoCommonCodec("no audio codec in common (PCMU, PCMA)")


def _choice(desc: SessionDescription, index: int, voice: Codec, dtmf: Codec | None) -> MediaChoice:
    media = desc.media[index]
    address = media.address or desc.address
    if address is None:
        raise SdpError("no c= line for the audio stream")
    theirs = media.direction or desc.direction
    return MediaChoice(voice, dtmf, address, media.port, media.ptime or 20, _MIRROR[theirs])


def answer_offer(
    offer: SessionDescription, *, port: int, session_id: int, address: str = LOOPBACK
) -> tuple[bytes, MediaChoice]:
    """The answer to `offer` with our audio on `address:port`, and what was settled.
    Raises NoCommonCodec (→ 488) or SdpError (→ 400)."""
    index, voice, dtmf = _pick(offer)
    choice = _choice(offer, index, voice, dtmf)
    lines = _session_lines(address, session_id, 1)
    for i, media in enumerate(offer.media):
        if i != index:
            lines.append(f"m={media.kind} 0 {media.proto} {' '.join(media.formats)}")
            continue
        lines += _audio_lines(port, [voice] + ([dtmf] if dtmf else []), choice.direction)
    return _text(lines), choice


def build_offer(
    *, port: int, session_id: int, version: int = 1, address: str = LOOPBACK, dtmf_pt: int = 101
) -> bytes:
    """Our offer for an outgoing leg: PCMU, PCMA and telephone-event."""
    codecs = [Codec(0, "PCMU"), Codec(8, "PCMA"), Codec(dtmf_pt, "telephone-event")]
    return _text(_session_lines(address, session_id, version) + _audio_lines(port, codecs))


def accept_answer(answer: SessionDescription) -> MediaChoice:
    """What the far end chose in its answer to our offer."""
    index, voice, dtmf = _pick(answer)
    return _choice(answer, index, voice, dtmf)


def _session_lines(address: str, session_id: int, version: int) -> list[str]:
    family = "IP6" if ":" in address else "IP4"
    return [
        "v=0",
        f"o=vaxel {session_id} {version} IN {family} {address}",
        "s=Vaxel",
        f"c=IN {family} {address}",
        "t=0 0",
    ]


def _audio_lines(port: int, codecs: list[Codec], direction: str = "sendrecv") -> list[str]:
    lines = [f"m=audio {port} RTP/AVP {' '.join(str(c.pt) for c in codecs)}"]
    for c in codecs:
        lines.append(f"a=rtpmap:{c.pt} {c.name}/{c.rate}")
        if c.name.lower() == "telephone-event":
            lines.append(f"a=fmtp:{c.pt} {c.fmtp or '0-16'}")
    return lines + ["a=ptime:20", f"a={direction}"]


def _text(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")
