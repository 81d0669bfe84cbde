"""SDP offer/answer: PCMU/PCMA + telephone-event, 488 when nothing fits (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbx.sip.errors import NoCommonCodec, SdpError
from pbx.sip.sdp import accept_answer, answer_offer, build_offer, parse_sdp
from tests.unit.sip_samples import SDP_OFFER

HEAD = "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"


def sdp(*media: str) -> bytes:
    return (HEAD + "".join(media)).encode()


def test_answer_takes_the_offerers_first_codec_and_its_event_payload() -> None:
    body, choice = answer_offer(parse_sdp(SDP_OFFER.encode()), port=40000, session_id=7)
    assert (choice.codec.pt, choice.codec.name) == (0, "PCMU")
    assert choice.dtmf is not None and choice.dtmf.pt == 101
    assert (choice.remote_address, choice.remote_port, choice.ptime) == ("127.0.0.1", 49170, 20)
    text = body.decode()
    assert "m=audio 40000 RTP/AVP 0 101\r\n" in text and "c=IN IP4 127.0.0.1" in text
    assert "a=rtpmap:101 telephone-event/8000" in text and "a=sendrecv" in text


def test_pcma_first_and_a_dynamic_event_type_are_kept() -> None:
    offer = sdp("m=audio 5004 RTP/AVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n")
    body, choice = answer_offer(parse_sdp(offer), port=4, session_id=1, address="127.0.0.2")
    assert choice.codec.name == "PCMA" and choice.dtmf is not None and choice.dtmf.pt == 96
    assert "m=audio 4 RTP/AVP 8 96" in body.decode() and "IN IP4 127.0.0.2" in body.decode()


def test_unknown_codecs_first_are_skipped_and_other_streams_refused() -> None:
    offer = sdp(
        "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
        "m=audio 5004 RTP/AVP 9 18 111 0\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\n",
    )
    body, choice = answer_offer(parse_sdp(offer), port=4000, session_id=1)
    lines = body.decode().split("\r\n")
    assert "m=video 0 RTP/AVP 96" in lines and "m=audio 4000 RTP/AVP 0" in lines
    assert choice.dtmf is None and choice.direction == "recvonly" and "a=recvonly" in lines


def test_media_level_address_and_directions() -> None:
    offer = sdp("m=audio 5004 RTP/AVP 0\r\nc=IN IP4 127.0.0.9\r\na=inactive\r\n")
    _, choice = answer_offer(parse_sdp(offer), port=1, session_id=1)
    assert choice.remote_address == "127.0.0.9" and choice.direction == "inactive"


@pytest.mark.parametrize(
    "media",
    [
        "",
        "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
        "m=audio 5004 RTP/AVP 9 18 3\r\n",
        "m=audio 5004 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n",
        "m=audio 5004 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n",
        "m=audio 0 RTP/AVP 0\r\n",
        "m=audio 5004 RTP/SAVP 0\r\n",
        "m=audio 5004 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n",
        "m=audio 5004 RTP/AVP 96 97\r\n",
        "m=image 5004 udptl t38\r\n",
    ],
)
def test_no_common_codec_means_488(media: str) -> None:
    with pytest.raises(NoCommonCodec) as caught:
        answer_offer(parse_sdp(sdp(media)), port=1, session_id=1)
    assert caught.value.status == 488


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"hello",
        b"\xff\xfe",
        b"o=x\r\nv=0\r\n",
        b"v=0\r\nnonsense\r\n",
        (HEAD + "m=audio\r\n").encode(),
        (HEAD + "m=audio x RTP/AVP 0\r\n").encode(),
        (HEAD + "m=audio 99999 RTP/AVP 0\r\n").encode(),
        (HEAD.replace("c=IN IP4 127.0.0.1", "c=IN")).encode(),
        ("v=0\r\n" + "a=x\r\n" * 300).encode(),
    ],
)
def test_unreadable_sdp_is_an_sdp_error(body: bytes) -> None:
    with pytest.raises(SdpError) as caught:
        parse_sdp(body)
    assert caught.value.status == 400


def test_audio_without_any_connection_address_is_refused() -> None:
    offer = b"v=0\r\no=x 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 5 RTP/AVP 0\r\n"
    with pytest.raises(SdpError):
        answer_offer(parse_sdp(offer), port=1, session_id=1)


def test_our_offer_and_their_answer() -> None:
    offer = parse_sdp(build_offer(port=30000, session_id=5))
    assert [c.name for c in offer.media[0].codecs] == ["PCMU", "PCMA", "telephone-event"]
    assert offer.address == "127.0.0.1"
    answer, _ = answer_offer(offer, port=30002, session_id=6)
    choice = accept_answer(parse_sdp(answer))
    assert (choice.remote_port, choice.codec.name, choice.direction) == (30002, "PCMU", "sendrecv")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=30))
def test_random_sdp_lines_raise_only_sdp_errors(lines: list[str]) -> None:
    try:
        answer_offer(parse_sdp(("v=0\r\n" + "\r\n".join(lines)).encode()), port=1, session_id=1)
    except SdpError:
        pass
