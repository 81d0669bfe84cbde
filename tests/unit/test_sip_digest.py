"""Digest authentication for REGISTER/INVITE (RFC 3261 §22, RFC 8760) and timer values."""

from __future__ import annotations

import re

import pytest

from pbx.sip import digest, timers
from pbx.sip.digest import DigestRejected, Ha1, Password, StaleNonce

SECRET = b"s" * 32
REALM = "vaxel"
NOW = 1_800_000_000.0


def lookup(username: str) -> digest.Secret | None:
    if username == "anna":
        return Password("correct horse")
    if username == "bo":
        return Ha1("MD5", digest.ha1("bo", REALM, "pw", "MD5"))
    return None


def nonce_of(challenge: str) -> str:
    m = re.search(r'nonce="([^"]+)"', challenge)
    assert m
    return m.group(1)


def authorization(
    user: str = "anna",
    pw: str = "correct horse",
    alg: str = "SHA-256",
    when: float = NOW,
    **kw: str,
) -> str:
    nonce = kw.pop("nonce", None) or nonce_of(digest.challenges(REALM, SECRET, when)[0])
    return digest.client_response(
        username=user,
        password=pw,
        realm=REALM,
        nonce=nonce,
        method="REGISTER",
        uri="sip:127.0.0.1",
        algorithm=alg,
        **kw,
    )


def check(value: str, now: float = NOW, method: str = "REGISTER") -> str:
    return digest.verify(
        value,
        method=method,
        uri="sip:127.0.0.1",
        realm=REALM,
        secret=SECRET,
        now=now,
        lookup=lookup,
    )


def test_challenges_offer_sha256_before_md5_with_qop_auth() -> None:
    first, second = digest.challenges(REALM, SECRET, NOW)
    assert "algorithm=SHA-256" in first and "algorithm=MD5" in second
    assert 'qop="auth"' in first and "stale" not in first
    assert "stale=true" in digest.challenges(REALM, SECRET, NOW, stale=True)[0]


@pytest.mark.parametrize("alg", ["SHA-256", "MD5"])
def test_right_password_passes(alg: str) -> None:
    assert check(authorization(alg=alg), now=NOW + 10) == "anna"


def test_stored_ha1_passes_for_its_algorithm_only() -> None:
    assert check(authorization("bo", "pw", "MD5")) == "bo"
    with pytest.raises(DigestRejected):
        check(authorization("bo", "pw", "SHA-256"))


@pytest.mark.parametrize(
    "value",
    [
        authorization(pw="wrong"),
        authorization(user="nobody"),
        authorization(nonce=digest.make_nonce(b"other secret", REALM, NOW)),
        authorization(nonce="AAAA"),
        authorization(nonce="!!not base64!!"),
        authorization(nonce=digest.make_nonce(SECRET, "other realm", NOW)),
        authorization(when=NOW + 60),  # from the future
        authorization().replace("qop=auth", "qop=auth-int"),
        authorization().replace("algorithm=SHA-256", "algorithm=SHA-512-256"),
        authorization().replace('realm="vaxel"', 'realm="x"'),
        authorization().replace('uri="sip:127.0.0.1"', 'uri="sip:other"'),
        authorization().replace("nc=00000001", "nc=1"),
        authorization().replace('cnonce="0a4f113b"', 'cnonce=""'),
        "Basic YW5uYTpwdw==",
        "Digest",
        'Digest username="anna"',
        'Digest username="anna", realm=="x"',
        "Digest " + "x" * 5000,
    ],
)
def test_wrong_or_forged_authorizations_are_rejected(value: str) -> None:
    with pytest.raises(DigestRejected) as caught:
        check(value)
    assert not isinstance(caught.value, StaleNonce)


def test_expired_nonce_is_stale_not_forged() -> None:
    with pytest.raises(StaleNonce):
        check(authorization(), now=NOW + digest.NONCE_LIFETIME + 1)


def test_response_for_another_method_fails() -> None:
    with pytest.raises(DigestRejected):
        check(authorization(), method="INVITE")


def test_rfc3261_timer_schedules() -> None:
    assert timers.timeout() == 32.0
    assert timers.answer_retransmissions() == (
        0.5,
        1.5,
        3.5,
        7.5,
        11.5,
        15.5,
        19.5,
        23.5,
        27.5,
        31.5,
    )
    assert timers.invite_retransmissions() == (0.5, 1.5, 3.5, 7.5, 15.5, 31.5)
    assert timers.request_retransmissions(t1=1.0, t2=2.0)[:4] == (1.0, 3.0, 5.0, 7.0)
    with pytest.raises(ValueError):
        timers.answer_retransmissions(t1=0)
