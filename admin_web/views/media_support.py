"""What the media pages share: the blob store, the text-to-speech engines, media errors in
the reader's language, uploaded files, and sending a verified file.

The text-to-speech chain lives once per process (built lazily from the settings), so the
gTTS outage memory works across requests: one failed attempt, then espeak-ng answers at
once for a while instead of every page waiting for the network.
"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

from admin_web.db import db, runtime
from admin_web.i18n import gettext
from pbx.errors import PbxError
from pbx.media import errors as media_errors
from pbx.media.tts import FallbackTts, build_tts
from pbx.services.library import messages as library
from pbx.services.library.files import MediaFile
from storage.blobs import BlobStore

# Error code → the sentence users read (English msgid; Swedish in translations/sv/media.po).
MEDIA_TEXTS: dict[str, str] = {
    cls.code: cls.default_message
    for cls in vars(media_errors).values()
    if isinstance(cls, type) and issubclass(cls, media_errors.MediaError)
}
MEDIA_TEXTS.update(
    {
        media_errors.AudioTooLarge.code: "The audio file is larger than allowed (15 MB).",
        media_errors.AudioTooLong.code: "The audio is longer than allowed (3 minutes).",
        media_errors.PictureTooLarge.code: "The picture file is larger than allowed (10 MB).",
        media_errors.TtsTextTooLong.code: "The text is too long for text-to-speech.",
        library.MessageInUse.code: "This message is in use and cannot be deleted.",
        library.QuotaExceeded.code: "The company has reached its limit of stored audio.",
        "no_file": "Choose a file to upload.",
    }
)


def blobs() -> BlobStore:
    return runtime().blobs(db())


def tts() -> FallbackTts:
    engines: FallbackTts | None = current_app.extensions.get("pbx_tts")
    if engines is None:
        settings = runtime().settings
        engines = current_app.extensions["pbx_tts"] = build_tts(settings.tts_engines)
    return engines


def media_error_text(exc: PbxError) -> str:
    return gettext(MEDIA_TEXTS.get(exc.code, exc.message))


def uploaded(name: str = "file") -> bytes:
    """The bytes of an uploaded file field (b"" when none was chosen)."""
    file = request.files.get(name)
    return file.read() if file is not None else b""


def send_media(file: MediaFile, *, download: bool = False) -> Response:
    """Send verified bytes with their type, a generated name, and range support (players
    seek in long messages)."""
    response = Response(file.data, mimetype=file.content_type)
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{file.filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request, accept_ranges=True, complete_length=len(file.data))
