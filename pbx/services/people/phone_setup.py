"""What a softphone needs to register, written out for the phones people use: a baresip
accounts line, Linphone's fields, and a QR code of the SIP URI with the credentials.

Pure: built from freshly issued credentials and the front's settings, shown once by the site
("Mina inställningar / Telefon") and printed by `pbx demo`. Nothing here is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import segno

from pbx.services.people.phones import PhoneCredentials

# Addresses that mean "every interface": a phone cannot be told to register there.
WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})


def advertised_host(sip_host: str, fallback: str) -> str:
    """The address phones register at: the configured one, or `fallback` (the site's own
    host name) when the front listens on every interface."""
    return fallback if sip_host in WILDCARDS else sip_host


@dataclass(frozen=True)
class PhoneSetup:
    credentials: PhoneCredentials
    host: str
    port: int
    realm: str
    transport: str = "udp"

    @property
    def username(self) -> str:
        return self.credentials.username

    @property
    def password(self) -> str:
        return self.credentials.password

    @property
    def server(self) -> str:
        """host:port as a SIP URI writes it (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"

    def baresip_account(self) -> str:
        """One line of baresip's ~/.baresip/accounts (G.711, as the switchboard speaks)."""
        return (
            f"<sip:{self.username}@{self.server};transport={self.transport}>"
            f";auth_pass={self.password};audio_codecs=PCMU,PCMA;regint=600"
        )

    def linphone_fields(self) -> list[tuple[str, str]]:
        """Linphone's "Use a SIP account" form, field by field (English labels)."""
        return [
            ("Username", self.username),
            ("Password", self.password),
            ("Domain", self.server),
            ("Transport", self.transport.upper()),
        ]

    def sip_uri(self) -> str:
        """The account as one SIP URI with its password (RFC 3261 userinfo), for phones that
        read their account from a QR code."""
        user, password = quote(self.username, safe=""), quote(self.password, safe="")
        return f"sip:{user}:{password}@{self.server};transport={self.transport}"

    def qr_svg(self) -> str:
        """Inline SVG of the QR code, rendered on the server (the password never goes to a
        QR service). Serve it with Cache-Control: no-store."""
        markup: str = segno.make(self.sip_uri(), error="m", micro=False).svg_inline(
            scale=4, title="SIP"
        )
        return markup
