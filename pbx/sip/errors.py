"""Errors of the pure SIP layers. Each says what to answer, so the edge never guesses."""

from __future__ import annotations

REASONS = {
    400: "Bad Request",
    413: "Request Entity Too Large",
    416: "Unsupported URI Scheme",
    488: "Not Acceptable Here",
    505: "Version Not Supported",
    513: "Message Too Large",
}


class SipParseError(Exception):
    """A SIP message that cannot be used. `status` is the response to send when the
    message is a request we can still answer (its Via, From, To, Call-ID and CSeq could be
    read); the edge drops it otherwise. `fatal` means a TCP stream lost its framing and the
    connection must be closed."""

    def __init__(self, message: str, status: int = 400, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.reason = REASONS.get(status, "Bad Request")
        self.fatal = fatal


class SdpError(Exception):
    """An SDP body we cannot read at all (answered with 400)."""

    status = 400


class NoCommonCodec(SdpError):
    """An offer without an audio stream we can speak (PCMU/PCMA): answered with 488."""

    status = 488


class RtpError(Exception):
    """A datagram that is not an RTP packet we accept (dropped, never answered)."""


class DtmfError(Exception):
    """A telephone-event payload or INFO body that is not a key we know."""
