"""Identify an audio upload by its content (never by its name or MIME type).

The leading bytes pick one container from a short allow-list; ffmpeg is then told to use
that demuxer and only the decoders that belong to it, so a file cannot talk ffmpeg into one
of its hundreds of other formats. A file whose start says "picture", "archive" or "web page"
is refused with a message that says so, which also stops polyglots (a PNG header glued to an
MP3, a ZIP or HTML file named .wav). Structural checks catch truncated WAV and Ogg files,
whose truncation ffmpeg would pass over silently.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pbx.media.errors import AudioTruncated, AudioUnsupportedFormat

PCM_DECODERS = (
    "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8",
    "pcm_mulaw", "pcm_alaw",
)  # fmt: skip
OPUS_VORBIS = ("opus", "libopus", "vorbis", "libvorbis")
AAC_DECODERS = ("aac", "aac_fixed")


@dataclass(frozen=True)
class Container:
    """An accepted audio container: our name, ffmpeg's demuxer, the decoders allowed in it."""

    name: str
    demuxer: str
    decoders: tuple[str, ...]


WAV = Container("wav", "wav", PCM_DECODERS)
MP3 = Container("mp3", "mp3", ("mp3float", "mp3"))
OGG = Container("ogg", "ogg", OPUS_VORBIS)
WEBM = Container("webm", "matroska", OPUS_VORBIS)
MATROSKA = Container("mka", "matroska", OPUS_VORBIS)
M4A = Container("m4a", "mov", (*AAC_DECODERS, "alac"))
ADTS = Container("aac", "aac", AAC_DECODERS)

NOT_AUDIO = (
    (b"\x89PNG\r\n\x1a\n", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"fLaC", "a FLAC file"),
    (b"<", "a web page or XML/SVG document"),
)


def sniff_audio(data: bytes) -> Container:
    """Return the container `data` starts with, or raise AudioUnsupportedFormat."""
    head = data[:64]
    container = _by_magic(head)
    if container is None:
        raise AudioUnsupportedFormat(_unsupported_message(head))
    if container is WAV:
        _check_riff_complete(data)
    elif container is OGG:
        _check_ogg_complete(data)
    return container


def _by_magic(head: bytes) -> Container | None:
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"OggS":
        return OGG
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return WEBM if b"webm" in head else MATROSKA
    if head[4:8] == b"ftyp":
        return M4A
    if head[:3] == b"ID3" or _is_mpeg_audio_sync(head, layer_zero=False):
        return MP3
    if _is_mpeg_audio_sync(head, layer_zero=True):
        return ADTS
    return None


def _is_mpeg_audio_sync(head: bytes, *, layer_zero: bool) -> bool:
    """MPEG audio frame sync (11 set bits); layer bits 00 mean ADTS AAC, others MP3."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    layer = (head[1] >> 1) & 0x03
    return (layer == 0) == layer_zero


def _unsupported_message(head: bytes) -> str:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "This is a WebP picture, not an audio file."
    for magic, what in NOT_AUDIO:
        if stripped.startswith(magic) if magic == b"<" else head.startswith(magic):
            return f"This is {what}, not a supported audio file."
    return AudioUnsupportedFormat.default_message


def _check_riff_complete(data: bytes) -> None:
    """A WAV whose RIFF size or data chunk runs past the end of the bytes is truncated."""
    if data[:4] != b"RIFF" or len(data) < 12:
        return  # RF64 keeps its sizes elsewhere; ffmpeg checks it
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size in (0, 0xFFFFFFFF):
        return  # a streaming writer that never went back to fill the size in
    if riff_size + 8 > len(data):
        raise AudioTruncated()
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        if chunk_id == b"data" and size in (0, 0xFFFFFFFF):
            return  # streaming writer again
        if offset + 8 + size > len(data):
            raise AudioTruncated()
        if chunk_id == b"data":
            return
        offset += 8 + size + (size & 1)


OGG_MAX_PAGE = 27 + 255 + 255 * 255


def _check_ogg_complete(data: bytes) -> None:
    """Some Ogg page must end exactly at the end of the bytes, or the file was cut short.

    Searching back over the largest possible page makes an "OggS" that happens to occur
    inside the compressed audio harmless.
    """
    floor = max(0, len(data) - OGG_MAX_PAGE)
    start = data.rfind(b"OggS", floor)
    while start >= 0:
        if _ogg_page_end(data, start) == len(data):
            return
        start = data.rfind(b"OggS", floor, start)
    raise AudioTruncated()


def _ogg_page_end(data: bytes, start: int) -> int:
    if len(data) - start < 27:
        return -1
    table_end = start + 27 + data[start + 26]
    if table_end > len(data):
        return -1
    return table_end + sum(data[start + 27 : table_end])
