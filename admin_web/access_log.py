"""gunicorn's access log without the secrets some URLs carry.

Setup and reset links, "this wasn't me" review links and softphone call links hold a
bearer token in their path. The default access log writes the request line and the
Referer verbatim, so anyone who can read the log could use an unspent link (SECURITY.md:
never secrets in logs). The token part is replaced before the line is formatted.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# Every route whose path carries a bearer token, up to the next "/", "?", "#" or space.
_TOKEN_IN_PATH = re.compile(r"(/(?:account/password|forwarding/review|softphone/calls)/)[^/?#\s]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every token-carrying path segment replaced."""
    return _TOKEN_IN_PATH.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingLogger(Logger):  # type: ignore[misc]
    """The standard access log, with tokens taken out of the request line and Referer."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f", "{referer}i"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
