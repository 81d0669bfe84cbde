"""Content checks for verified blobs: an audio master must decode to a non-zero duration,
a picture must decode. (The hash says the bytes are the ones stored; these say the bytes
were worth storing.)"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable

from storage.backups.references import BlobRef


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


def audio_problem(data: bytes) -> str | None:
    """None when `data` is a PCM WAV whose frames are all there and last more than 0 ms."""
    try:
        with wave.open(io.BytesIO(data), "rb") as src:
            frames, rate = src.getnframes(), src.getframerate()
            width, channels = src.getsampwidth(), src.getnchannels()
            body = src.readframes(frames)
    except (wave.Error, EOFError) as exc:
        return f"audio does not decode ({exc})"
    if frames <= 0 or rate <= 0:
        return "audio has zero duration"
    if len(body) != frames * width * channels:
        return "audio is cut short"
    return None


def picture_problem(data: bytes) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.width <= 0 or image.height <= 0:
                return "picture is empty"
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        return f"picture does not decode ({exc})"
    return None


def content_problem(data: bytes, kinds: Iterable[str]) -> str | None:
    for kind in kinds:
        check = {"audio": audio_problem, "picture": picture_problem}.get(kind)
        problem = check(data) if check else None
        if problem:
            return problem
    return None
