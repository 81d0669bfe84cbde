"""SIPp as the called side (a phone, or the carrier's UAS at the trunk address), for the tests
where the switchboard places the INVITE: ring then busy, ring until cancelled, or answer with
PCMU + telephone-event and then stream pcaps and wait for the switchboard's BYE."""

from __future__ import annotations

from tests.phone.call_scenarios import HEAD, expect_bye, pause, stream

TAG = ";tag=[pid]SIPpTag01[call_number]"
RESPONSE = """  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]{tag}
      [last_Call-ID:]
      {cseq}
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{more}      Content-Length: {length}
{body}
    ]]>
  </send>
"""
SDP = """
      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20"""


def _response(status: str, *, tag: str = TAG, cseq: str = "[last_CSeq:]", sdp: bool = False) -> str:
    more = "      Content-Type: application/sdp\n" if sdp else ""
    return RESPONSE.format(
        status=status, tag=tag, cseq=cseq, more=more,
        length="[len]" if sdp else "0", body=SDP if sdp else "",
    )  # fmt: skip


def ringing() -> str:
    return '  <recv request="INVITE" crlf="true"/>\n' + _response("180 Ringing")


def busy() -> str:
    """The phone declines: 486, then the switchboard's ACK."""
    return ringing() + _response("486 Busy Here") + '  <recv request="ACK"/>\n'


def until_cancelled() -> str:
    """Rings until the switchboard cancels: 200 to the CANCEL, 487 to the INVITE, ACK."""
    return (
        ringing()
        + '  <recv request="CANCEL"/>\n'
        + _response("200 OK", tag="")
        + _response("487 Request Terminated", cseq="CSeq: 1 INVITE")
        + '  <recv request="ACK"/>\n'
    )


def answers(*steps: str) -> str:
    """Answers with an SDP offer's answer, then `steps` (pauses, streams), then takes the
    switchboard's BYE."""
    return (
        ringing()
        + _response("200 OK", sdp=True)
        + '  <recv request="ACK" crlf="true"/>\n'
        + "".join(steps)
        + expect_bye()
    )


def scenario(name: str, body: str) -> str:
    return HEAD.format(name=name) + body + "</scenario>\n"


__all__ = ["answers", "busy", "pause", "scenario", "stream", "until_cancelled"]
