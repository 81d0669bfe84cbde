"""The phone setup shown once: baresip's accounts line, Linphone's fields, the QR's URI."""

from __future__ import annotations

from pbx.services.people.phone_setup import WILDCARDS, PhoneSetup, advertised_host
from pbx.services.people.phones import PhoneCredentials

MADE = PhoneCredentials("acme-201", "s3cret_-x")


def test_the_baresip_line_registers_with_g711_at_the_front() -> None:
    setup = PhoneSetup(MADE, "127.0.0.1", 5060, "vaxel")
    assert setup.baresip_account() == (
        "<sip:acme-201@127.0.0.1:5060;transport=udp>;auth_pass=s3cret_-x"
        ";audio_codecs=PCMU,PCMA;regint=600"
    )
    assert ("Domain", "127.0.0.1:5060") in setup.linphone_fields()
    assert setup.sip_uri() == "sip:acme-201:s3cret_-x@127.0.0.1:5060;transport=udp"


def test_an_ipv6_front_is_written_in_brackets() -> None:
    assert PhoneSetup(MADE, "::1", 5070, "vaxel").server == "[::1]:5070"


def test_a_front_on_every_interface_is_advertised_by_the_sites_host() -> None:
    # Nothing binds here: the wildcards are the ones the front's settings accept.
    assert all(advertised_host(w, "pbx.example.se") == "pbx.example.se" for w in WILDCARDS)
    assert advertised_host("127.0.0.1", "pbx.example.se") == "127.0.0.1"


def test_the_qr_code_is_inline_svg() -> None:
    svg = PhoneSetup(MADE, "127.0.0.1", 5060, "vaxel").qr_svg()
    assert svg.startswith("<svg") and "<title>SIP</title>" in svg
