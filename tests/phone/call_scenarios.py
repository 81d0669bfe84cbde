"""SIPp scenarios as the carrier trunk, written by the tests: an INVITE to a company number
with a PCMU + telephone-event offer, then steps (pauses, streamed pcaps, SIP INFO keys),
then BYE. Timings come from the prompts the test world plays, so they live in Python."""

from __future__ import annotations

from pathlib import Path

HEAD = '<?xml version="1.0" encoding="UTF-8" ?>\n<scenario name="{name}">\n'
DIALOG = """      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{number}@[remote_ip]:[remote_port]>{to_tag}
      Call-ID: [call_id]
"""


def _dialog(number: str, caller: str, tagged: bool = True) -> str:
    return DIALOG.format(number=number, caller=caller, to_tag="[peer_tag_param]" if tagged else "")


def invite(number: str, caller: str, sdp_media: str | None = None) -> str:
    media = sdp_media or (
        "m=audio [media_port] RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000\n"
        "      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-15\n      a=ptime:20"
    )
    return f"""  <send retrans="500">
    <![CDATA[
      INVITE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
{_dialog(number, caller, tagged=False)}      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      User-Agent: SIPp trunk
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=trunk 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      {media}
    ]]>
  </send>
"""


def answered(number: str, caller: str) -> str:
    """Provisional answers, the 200 OK, our ACK."""
    return f"""  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
{_dialog(number, caller)}      CSeq: 1 ACK
      Content-Length: 0

    ]]>
  </send>
"""


def pause(ms: int) -> str:
    return f'  <pause milliseconds="{ms}"/>\n'


def stream(pcap: Path) -> str:
    """Start streaming a pcap's RTP (it plays on while the scenario goes on)."""
    return f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'


def info_key(number: str, caller: str, key: str, cseq: int) -> str:
    body = f"Signal={key}\nDuration=160\n"
    return f"""  <send retrans="500">
    <![CDATA[
      INFO sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
{_dialog(number, caller)}      CSeq: {cseq} INFO
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      {body}
    ]]>
  </send>
  <recv response="200"/>
"""


def bye(number: str, caller: str, cseq: int) -> str:
    return f"""  <send retrans="500">
    <![CDATA[
      BYE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
{_dialog(number, caller)}      CSeq: {cseq} BYE
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""


def expect_bye() -> str:
    """The switchboard hangs up: answer its BYE."""
    return """  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


def scenario(name: str, *steps: str) -> str:
    return HEAD.format(name=name) + "".join(steps) + "</scenario>\n"
