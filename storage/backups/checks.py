"""Content checks for verified blobs: an audio master must decode to a non-zero duration,
a picture must decode. (The hash says the bytes are the ones stored; these say the bytes
were worth storing.)"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable

from storage.backups.references import BlobRef

Data = bytes | memoryview  # a blob, or a view of a reusable read buffer


def kinds_of(refs: Iterable[BlobRef]) -> list[str]:
    """What a blob holds, from the rows that use it: audio, picture and/or original."""
    kinds = set()
    for ref in refs:
        if ref.is_audio_master:
            kinds.add("audio")
        elif ref.is_picture:
            kinds.add("picture")
        else:
            kinds.add("original")
    return sorted(kinds)


def audio_problem(data: Data) -> str | None:
    """None when `data` is a PCM WAV whose frames are all there and last more than 0 ms.

    Reads the RIFF chunk headers only (the bytes were just hashed; copying the samples out
    through the `wave` module would double the cost of a verify)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return "audio does not decode (not a RIFF/WAVE file)"
    fmt, frames_bytes = _wav_chunks(data)
    if fmt is None or frames_bytes is None:
        return "audio does not decode (no fmt or data chunk, or cut short)"
    channels, rate, block_align = fmt
    if channels <= 0 or rate <= 0 or block_align <= 0:
        return "audio does not decode (bad format chunk)"
    if frames_bytes // block_align == 0:
        return "audio has zero duration"
    return None


def _wav_chunks(data: Data) -> tuple[tuple[int, int, int] | None, int | None]:
    """(channels, rate, block align) of the fmt chunk and the data chunk's length, when the
    data chunk lies wholly inside `data`."""
    fmt: tuple[int, int, int] | None = None
    offset = 12
    while offset + 8 <= len(data):
        name, size = (
            data[offset : offset + 4],
            int.from_bytes(data[offset + 4 : offset + 8], "little"),
        )
        body = offset + 8
        if name == b"fmt " and size >= 16:
            channels, rate = struct.unpack_from("<HI", data, body + 2)
            block_align = struct.unpack_from("<H", data, body + 12)[0]
            fmt = (channels, rate, block_align)
        elif name == b"data":
            return fmt, size if body + size <= len(data) else None
        offset = body + size + (size & 1)
    return fmt, None


def picture_problem(data: Data) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.width <= 0 or image.height <= 0:
                return "picture is empty"
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        return f"picture does not decode ({exc})"
    return None


def content_problem(data: Data, kinds: Iterable[str]) -> str | None:
    for kind in kinds:
        check = {"audio": audio_problem, "picture": picture_problem}.get(kind)
        problem = check(data) if check else None
        if problem:
            return problem
    return None
