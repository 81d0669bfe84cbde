"""SECURITY.md items 6–8: TOTP secrets, provisioning, drift and replay."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from pbx.security.totp import Totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def test_new_secret_has_160_bits_and_differs_each_time() -> None:
    secrets = {Totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(base64.b32decode(secret)) * 8 == 160


def test_rfc_6238_sha1_vectors_six_digits() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert Totp.code_at(secret, 59) == "287082"
    assert Totp.code_at(secret, 1111111109) == "081804"
    assert Totp.code_at(secret, 20000000000) == "353130"


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = Totp.provisioning_uri(SECRET, "anna@acme.se")
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Växel:anna@acme.se"
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["Växel"]


def test_qr_code_is_server_side_svg_markup() -> None:
    svg = Totp.qr_svg(Totp.provisioning_uri(SECRET, "anna@acme.se"), title="QR")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<title>QR</title>" in svg
    assert SECRET not in svg  # the secret is only in the modules, not in text


def test_current_code_accepted_once() -> None:
    code = Totp.code_at(SECRET, NOW)
    step = Totp.verify(SECRET, code, NOW, last_step=None)
    assert step == Totp.time_step(NOW)
    assert Totp.verify(SECRET, code, NOW, last_step=step) is None
    assert Totp.verify(SECRET, code, NOW + STEP, last_step=step) is None


def test_previous_step_code_rejected_after_current_was_used() -> None:
    previous = Totp.code_at(SECRET, NOW - STEP)
    assert Totp.verify(SECRET, previous, NOW, last_step=None) is not None  # drift is fine...
    current_step = Totp.verify(SECRET, Totp.code_at(SECRET, NOW), NOW, last_step=None)
    assert Totp.verify(SECRET, previous, NOW, last_step=current_step) is None  # ...not after


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_of_drift_accepted(offset: int) -> None:
    code = Totp.code_at(SECRET, NOW + offset * STEP)
    assert Totp.verify(SECRET, code, NOW, last_step=None) == Totp.time_step(NOW) + offset


@pytest.mark.parametrize("offset", [-2, 2])
def test_two_steps_of_drift_rejected(offset: int) -> None:
    code = Totp.code_at(SECRET, NOW + offset * STEP)
    assert Totp.verify(SECRET, code, NOW, last_step=None) is None


def test_next_step_code_accepted_after_current() -> None:
    step = Totp.verify(SECRET, Totp.code_at(SECRET, NOW), NOW, last_step=None)
    later = Totp.code_at(SECRET, NOW + STEP)
    assert Totp.verify(SECRET, later, NOW, last_step=step) == Totp.time_step(NOW) + 1


def test_float_timestamps_and_aware_datetimes_agree() -> None:
    assert Totp.time_step(NOW) == Totp.time_step(NOW.timestamp())
    with pytest.raises(ValueError, match="naive"):
        Totp.time_step(NOW.replace(tzinfo=None))


def wrong_shapes(code: str) -> list[str]:
    arabic_indic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    return [
        "", code[:5], code + "0", f" {code}", f"{code}\n", f"{code[:3]} {code[3:]}",
        code[:5] + "a", arabic_indic, "１２３４５６",
    ]  # fmt: skip


def test_codes_that_are_not_exactly_six_ascii_digits_are_rejected() -> None:
    code = Totp.code_at(SECRET, NOW)
    for candidate in wrong_shapes(code):
        assert Totp.verify(SECRET, candidate, NOW, last_step=None) is None, repr(candidate)
