"""HTTP digest authentication as SIP uses it (RFC 3261 §22, RFC 8760: SHA-256 and MD5).

Stateless nonces: a nonce is the time it was issued plus an HMAC of that time (and the
realm) under a server secret, so any worker can check it without shared state, a forged one
fails the HMAC, and an old one is *stale* (the phone is challenged again with `stale=true`
and retries without asking its user). Replays inside the lifetime are not tracked here (that
needs the nonce-count state of one worker); the lifetime is short instead.

Only `qop=auth` is accepted (we always offer it): the client nonce then salts every response.
Comparisons are constant-time, and an unknown user costs the same work as a known one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

ALGORITHMS = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}
NONCE_LIFETIME = 300.0
CLOCK_SKEW = 5.0
MAX_HEADER = 4096
_FIELD = re.compile(r'\s*([A-Za-z0-9\-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,"]+)\s*(?:,|$)')


class DigestRejected(Exception):
    """The Authorization is missing, malformed, forged or wrong: challenge again (401/407)."""


class StaleNonce(DigestRejected):
    """Authentic but expired nonce: challenge again with `stale=true`."""


@dataclass(frozen=True, slots=True)
class Password:
    """The user's SIP password in clear (decrypted by the caller, never logged)."""

    text: str


@dataclass(frozen=True, slots=True)
class Ha1:
    """A stored H(username:realm:password) for one algorithm."""

    algorithm: str
    hex: str


Secret = Password | Ha1
Lookup = Callable[[str], Secret | None]  # username → secret, None when unknown


@dataclass(frozen=True, slots=True)
class Authorization:
    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str
    qop: str
    nc: str
    cnonce: str


def _h(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode("utf-8")).hexdigest()


def ha1(username: str, realm: str, password: str, algorithm: str = "SHA-256") -> str:
    return _h(algorithm, f"{username}:{realm}:{password}")


def make_nonce(secret: bytes, realm: str, now: float) -> str:
    issued = struct.pack("!Q", int(now * 1000))
    mac = hmac.new(secret, b"nonce|" + realm.encode("utf-8") + b"|" + issued, "sha256")
    return base64.urlsafe_b64encode(issued + mac.digest()[:18]).decode("ascii")


def check_nonce(
    nonce: str, secret: bytes, realm: str, now: float, lifetime: float = NONCE_LIFETIME
) -> None:
    """Raise DigestRejected for a forged nonce, StaleNonce for an expired one."""
    try:
        raw = base64.urlsafe_b64decode(nonce.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise DigestRejected("nonce is not ours") from exc
    if len(raw) != 26:
        raise DigestRejected("nonce is not ours")
    issued = raw[:8]
    mac = hmac.new(secret, b"nonce|" + realm.encode("utf-8") + b"|" + issued, "sha256")
    if not hmac.compare_digest(raw[8:], mac.digest()[:18]):
        raise DigestRejected("nonce is not ours")
    age = now - struct.unpack("!Q", issued)[0] / 1000
    if age < -CLOCK_SKEW:
        raise DigestRejected("nonce from the future")
    if age > lifetime:
        raise StaleNonce("nonce expired")


def challenges(realm: str, secret: bytes, now: float, *, stale: bool = False) -> list[str]:
    """WWW-Authenticate values, SHA-256 first (RFC 8760 §2.4: strongest first), then MD5
    for phones that know nothing better. Each goes in its own header line."""
    nonce = make_nonce(secret, realm, now)
    extra = ", stale=true" if stale else ""
    return [
        f'Digest realm="{realm}", nonce="{nonce}", algorithm={alg}, qop="auth"{extra}'
        for alg in ALGORITHMS
    ]


def parse_authorization(value: str) -> Authorization:
    """An `Authorization: Digest ...` value → its fields; DigestRejected when unusable."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest" or len(value) > MAX_HEADER:
        raise DigestRejected("not a digest Authorization")
    fields: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _FIELD.match(rest, pos)
        if m is None:
            raise DigestRejected("malformed Authorization")
        fields[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
        pos = m.end()
    need = ("username", "realm", "nonce", "uri", "response")
    if any(not fields.get(k) for k in need):
        raise DigestRejected("Authorization lacks a field")
    return Authorization(
        fields["username"], fields["realm"], fields["nonce"], fields["uri"],
        fields["response"].lower(), fields.get("algorithm", "MD5").upper(),
        fields.get("qop", "").lower(), fields.get("nc", ""), fields.get("cnonce", ""),
    )  # fmt: skip


def verify(
    value: str,
    *,
    method: str,
    uri: str,
    realm: str,
    secret: bytes,
    now: float,
    lookup: Lookup,
    lifetime: float = NONCE_LIFETIME,
) -> str:
    """Check an Authorization header for a request; returns the authenticated username.

    Raises StaleNonce (re-challenge with stale=true) or DigestRejected (re-challenge; count
    it as a failed attempt)."""
    auth = parse_authorization(value)
    if auth.algorithm not in ALGORITHMS or auth.qop != "auth" or not auth.cnonce:
        raise DigestRejected("only qop=auth with SHA-256 or MD5")
    if auth.realm != realm or auth.uri != uri or not re.fullmatch(r"[0-9a-fA-F]{8}", auth.nc):
        raise DigestRejected("realm, uri or nc do not match")
    check_nonce(auth.nonce, secret, realm, now, lifetime)
    known = _ha1_for(lookup(auth.username), auth, realm)
    ha2 = _h(auth.algorithm, f"{method}:{auth.uri}")
    expected = _h(auth.algorithm, f"{known}:{auth.nonce}:{auth.nc}:{auth.cnonce}:auth:{ha2}")
    if not hmac.compare_digest(expected.encode("ascii"), auth.response.encode("utf-8")):
        raise DigestRejected("wrong credentials")
    return auth.username


def _ha1_for(secret: Secret | None, auth: Authorization, realm: str) -> str:
    """The HA1 to check against; a random-looking one for an unknown user (same work, and
    it never matches)."""
    if isinstance(secret, Password):
        return ha1(auth.username, realm, secret.text, auth.algorithm)
    if isinstance(secret, Ha1) and secret.algorithm.upper() == auth.algorithm:
        return secret.hex.lower()
    return _h(auth.algorithm, f"unknown:{auth.username}:{auth.nonce}") + "!"


def client_response(
    *, username: str, password: str, realm: str, nonce: str, method: str, uri: str,
    algorithm: str = "SHA-256", cnonce: str = "0a4f113b", nc: str = "00000001",
) -> str:  # fmt: skip
    """An Authorization value as a phone would send it (for outgoing legs and tests)."""
    key = ha1(username, realm, password, algorithm)
    ha2 = _h(algorithm, f"{method}:{uri}")
    response = _h(algorithm, f"{key}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm={algorithm}, qop=auth, nc={nc}, cnonce="{cnonce}"'
    )
