"""How library rows read on the page: kind and source names, placements as links to the
page that uses the message (when that page exists), the text-to-speech preview's address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import current_app, url_for

from admin_web.db import db
from admin_web.views.media_support import media_error_text
from pbx.media import tts
from pbx.media.errors import MediaError
from pbx.services.library.messages import LibraryRow
from pbx.services.library.slots import Placement
from storage.models import User

KIND_LABELS = {
    "welcome": "Welcome message",
    "ivr": "IVR prompt",
    "queue": "Queue message",
    "hold": "Message on hold",
    "greeting": "Voicemail greeting",
    "other": "Other message",
}
SOURCE_LABELS = {
    "upload": "Uploaded file",
    "tts": "Text-to-speech",
    "phone": "Recorded by phone",
    "restore": "Restored from backup",
    "demo": "Demo",
}
LANGUAGE_LABELS = {"sv": "Swedish", "en": "English"}
PLACEMENT_LABELS = {
    "number": "Number %(label)s (welcome message)",
    "ivr_prompt": "IVR menu %(label)s (prompt)",
    "ivr_invalid": "IVR menu %(label)s (invalid choice)",
    "queue": "Queue %(label)s",
    "queue_hold": "Queue %(label)s (message on hold)",
    "number_closed": "Number %(label)s (closed)",
    "ivr_closed": "IVR menu %(label)s (key, closed)",
    "mailbox": "Voicemail box of %(label)s",
}
# Placement kind → (endpoint, its argument): linked only when that page is registered.
PLACEMENT_PAGES = {
    "number": ("site_numbers.edit", "number_id"),
    "ivr_prompt": ("site_ivr.edit", "menu_id"),
    "ivr_invalid": ("site_ivr.edit", "menu_id"),
    "queue": ("site_queues.edit", "queue_id"),
    "queue_hold": ("site_queues.edit", "queue_id"),
    "number_closed": ("site_numbers.edit", "number_id"),
    "ivr_closed": ("site_ivr.edit", "menu_id"),
}
LABELS: dict[str, Any] = {
    "kind_labels": KIND_LABELS,
    "source_labels": SOURCE_LABELS,
    "language_labels": LANGUAGE_LABELS,
}


@dataclass(frozen=True)
class Where:
    text: str  # English msgid with %(label)s
    label: str
    url: str | None


@dataclass(frozen=True)
class RowView:
    row: LibraryRow
    where: list[Where]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def row(library_row: LibraryRow) -> RowView:
    return RowView(library_row, [where(p) for p in library_row.placements])


def where(placement: Placement) -> Where:
    label = placement.label
    if placement.kind == "mailbox":
        user = db().get(User, int(placement.label)) if placement.label.isdigit() else None
        label = user.name if user is not None else label
    page = PLACEMENT_PAGES.get(placement.kind)
    url = None
    if page is not None and page[0] in current_app.view_functions:
        url = url_for(page[0], **{page[1]: placement.object_id})
    return Where(PLACEMENT_LABELS[placement.kind], label, url)


@dataclass(frozen=True)
class Preview:
    text: str
    language: str
    audio_url: str
    problem: str | None = None  # the server's reason there is nothing to play


def tts_preview(args: Mapping[str, str], default_language: str) -> Preview | None:
    """The preview asked for by "Lyssna först" (a GET: nothing is stored). Text the server
    cannot read gets its message on the page: an <audio> that fails says nothing."""
    if args.get("preview") != "1":
        return None
    text = args.get("text", "")[:2000]
    language = args.get("language", default_language)
    query = urlencode({"text": text, "language": language})
    try:
        tts.check_request(text, language)
    except MediaError as exc:
        return Preview(text, language, "", media_error_text(exc))
    return Preview(text, language, url_for("media.tts_preview") + "?" + query)
