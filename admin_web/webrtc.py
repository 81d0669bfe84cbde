"""The web process's end of the WebRTC softphone (`pbx.webrtc`): one hub per app, made on
first use (its event loop runs in a thread of its own), and the switchboards it asks for
prompts and units of work, one per prompt language.

Where the peers run: here, in the web process that takes the signalling, so the demo needs
no other process and the site's session check sits right before the call. Media listens on
the SIP front's address (PBX_SIP_HOST): 127.0.0.1 in the demo and the tests keeps every ICE
candidate on loopback; a wildcard address offers every interface.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app

from admin_web.db import runtime
from admin_web.views.media_support import tts
from pbx.phone.switchboard import Switchboard
from pbx.services.people.phones import secret_box
from pbx.webrtc.hub import RtcHub

HUB, BOARDS, LOCK = "pbx_webrtc", "pbx_webrtc_boards", "pbx_webrtc_lock"
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def media_addresses() -> tuple[str, ...] | None:
    host = runtime().settings.sip_host
    return None if host in WILDCARDS else (host,)


def hub() -> RtcHub:
    extensions = current_app.extensions
    with extensions.setdefault(LOCK, threading.Lock()):
        if HUB not in extensions:
            extensions[HUB] = RtcHub(media_addresses())
        made: RtcHub = extensions[HUB]
        return made


def board(language: str) -> Switchboard:
    """The switchboard as the WebRTC calls see it: units of work on the app's database,
    its blob store, system prompts spoken in `language`."""
    extensions = current_app.extensions
    with extensions.setdefault(LOCK, threading.Lock()):
        boards: dict[str, Switchboard] = extensions.setdefault(BOARDS, {})
        if language not in boards:
            rt, speaker = runtime(), tts()
            settings = rt.settings
            fallbacks = settings.secret_key_fallbacks
            boards[language] = Switchboard(
                unit_of_work=rt.unit_of_work,
                blobs_of=rt.blobs,
                speak=lambda text, lang: speaker.synthesise(text, lang).wav,
                secret_box=secret_box(settings.require_secret_key(), fallbacks),
                language=language,
            )
        return boards[language]


def carries(key: str) -> bool:
    """Whether a call is carried over WebRTC in this process now (no hub: none is)."""
    made: RtcHub | None = current_app.extensions.get(HUB)
    return made is not None and made.carries(key)


def close(app: Flask) -> None:
    """Hang up every WebRTC call and stop the hub's loop and the boards' threads."""
    made: Any = app.extensions.pop(HUB, None)
    if made is not None:
        made.close()
    for one in app.extensions.pop(BOARDS, {}).values():
        one.close()
