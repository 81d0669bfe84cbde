"""Media errors: one class per way an upload or a synthesis can fail.

Every class has a stable `code` (the web layer and the CLI translate by code) and a clear
English default message. Subclasses narrow their parent, so `except AudioUndecodable`
also catches `AudioTruncated` and `AudioUnsupportedFormat`. Nothing is ever stored when
one of these is raised.
"""

from __future__ import annotations

from typing import ClassVar

from pbx.errors import PbxError


class MediaError(PbxError):
    """Base of every media error."""

    code = "media_error"
    default_message: ClassVar[str] = "The media could not be processed."

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        super().__init__(message or self.default_message)
        #: Technical detail for the log (e.g. the decoder's own complaint); not for users.
        self.detail = detail


# --- audio -------------------------------------------------------------------------------


class AudioError(MediaError):
    code = "audio_error"
    default_message = "The audio could not be processed."


class AudioEmpty(AudioError):
    code = "audio_empty"
    default_message = "The audio file is empty (it contains no sound at all)."


class AudioTooLarge(AudioError):
    code = "audio_too_large"
    default_message = "The audio file is larger than allowed."


class AudioTooLong(AudioError):
    code = "audio_too_long"
    default_message = "The audio is longer than allowed."


class AudioSilent(AudioError):
    code = "audio_silent"
    default_message = "The audio is silent: nothing loud enough to hear was found."


class AudioUndecodable(AudioError):
    code = "audio_undecodable"
    default_message = "The audio file is damaged or not an audio file."


class AudioUnsupportedFormat(AudioUndecodable):
    code = "audio_unsupported_format"
    default_message = (
        "This is not a supported audio file. Accepted: WAV, MP3, OGG (Opus or Vorbis), "
        "WebM (Opus) and M4A (AAC)."
    )


class AudioTruncated(AudioUndecodable):
    code = "audio_truncated"
    default_message = "The audio file is incomplete (it ends too early); upload it again."


class AudioTimeout(AudioError):
    code = "audio_timeout"
    default_message = "Processing the audio took too long and was stopped."


class NotMasterAudio(AudioError):
    code = "audio_not_master"
    default_message = "The audio is not in the master format (8 kHz mono 16-bit PCM WAV)."


# --- text-to-speech ----------------------------------------------------------------------


class TtsError(MediaError):
    code = "tts_error"
    default_message = "Text-to-speech failed."


class TtsUnavailable(TtsError):
    code = "tts_unavailable"
    default_message = "No text-to-speech engine is available right now."


class TtsTextEmpty(TtsError):
    code = "tts_text_empty"
    default_message = "There is no text to read aloud."


class TtsTextTooLong(TtsError):
    code = "tts_text_too_long"
    default_message = "The text is too long for text-to-speech."


class TtsLanguageUnsupported(TtsError):
    code = "tts_language_unsupported"
    default_message = "Text-to-speech supports Swedish (sv) and English (en) only."


# --- pictures ----------------------------------------------------------------------------


class PictureError(MediaError):
    code = "picture_error"
    default_message = "The picture could not be processed."


class PictureEmpty(PictureError):
    code = "picture_empty"
    default_message = "The picture file is empty."


class PictureTooLarge(PictureError):
    code = "picture_too_large"
    default_message = "The picture file is larger than allowed."


class PictureTooManyPixels(PictureTooLarge):
    code = "picture_too_many_pixels"
    default_message = "The picture has more pixels than allowed."


class PictureUndecodable(PictureError):
    code = "picture_undecodable"
    default_message = "The picture is damaged and could not be read."


class PictureUnsupportedFormat(PictureUndecodable):
    code = "picture_unsupported_format"
    default_message = "This is not a supported picture. Accepted: JPEG, PNG and WebP."
