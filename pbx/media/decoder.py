"""Decode audio with the ffmpeg binary shipped by imageio-ffmpeg, straight to the master rate.

One ffmpeg process per upload does demux → decode → downmix → resample (soxr, whose
anti-alias filter removes everything above 4 kHz) → high-pass, and writes 32-bit float samples
to a pipe, so the loudness step that follows has headroom and nothing is clipped twice.

The upload reaches ffmpeg through an anonymous in-memory file (memfd) rather than a pipe: an
M4A whose index ("moov") sits at the end cannot be read from a pipe, and a memfd has no name
on any filesystem, so there is never a temporary file to leave behind. ffmpeg may open only
that file (`-protocol_whitelist file`), with the demuxer and decoders the sniffer chose.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import numpy as np
from numpy.typing import NDArray

from pbx.media.errors import (
    AudioError,
    AudioTimeout,
    AudioTruncated,
    AudioUndecodable,
    AudioUnsupportedFormat,
)
from pbx.media.sniff import Container
from pbx.media.wav import MASTER_RATE

CAP_MARGIN_S = 1.0  # decode this much past the limit, enough to tell "too long"
FILTERS = f"aresample={MASTER_RATE}:resampler=soxr:precision=28:ochl=mono:osf=flt,highpass=f=60"
TRUNCATION_HINTS = (
    "ended prematurely", "end of file", "moov atom not found", "corrupt input packet",
    "invalid pcm packet", "partial file", "truncat",
)  # fmt: skip
NO_AUDIO_HINTS = ("matches no streams", "'0:a:0' for option 'map'")

_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_AUDIO_STREAM = re.compile(r"Stream #0:\d+\S*: Audio: (\w+)")
_ERROR_LINE = re.compile(r"\[(?:error|fatal)\] (.*)")


@dataclass(frozen=True)
class Decoded:
    """Mono float samples at the master rate, and what ffmpeg said about the input."""

    samples: NDArray[np.float32]
    codec: str
    declared_ms: int | None
    capped: bool

    @property
    def decoded_ms(self) -> int:
        return len(self.samples) * 1000 // MASTER_RATE


@dataclass(frozen=True)
class FfmpegLog:
    codec: str
    declared_ms: int | None
    errors: tuple[str, ...]

    @classmethod
    def parse(cls, stderr: bytes) -> FfmpegLog:
        text = stderr.decode("utf-8", "replace")
        input_part = text.split("Output #0", 1)[0]
        codec = _AUDIO_STREAM.search(input_part)
        duration = _DURATION.search(input_part)
        declared = None
        if duration:
            h, m, s = duration.groups()
            declared = round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)
        # A whitelist refusal while probing a cover picture or video track is harmless: only
        # the audio stream is decoded, and a refused audio decoder fails loudly on its own.
        errors = tuple(
            m.group(1).strip()
            for m in _ERROR_LINE.finditer(text)
            if "not on whitelist" not in m.group(1)
        )
        return cls(codec.group(1) if codec else "", declared, errors)


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the bundled ffmpeg binary (looked up once, on first use)."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def decode(data: bytes, container: Container, *, max_seconds: float, timeout_s: float) -> Decoded:
    """Decode `data` as `container`; raise AudioUndecodable/AudioTruncated/AudioTimeout."""
    with _input_file(data) as fd:
        proc = _run(_command(container, fd, max_seconds + CAP_MARGIN_S), fd, timeout_s)
    log = FfmpegLog.parse(proc.stderr)
    if log.codec and log.codec not in container.decoders:
        raise AudioUnsupportedFormat(
            f"The {container.name.upper()} file holds {log.codec} audio, which is not accepted. "
            + AudioUnsupportedFormat.default_message.split(". ", 1)[1]
        )
    if proc.returncode != 0 or log.errors:
        raise _failure(log, proc.returncode)
    samples = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
    capped = len(samples) / MASTER_RATE > max_seconds
    decoded = Decoded(samples, log.codec, log.declared_ms, capped)
    if not capped and _looks_cut_short(decoded):
        detail = f"declared {log.declared_ms} ms, decoded {decoded.decoded_ms} ms"
        raise AudioTruncated(detail=detail)
    return decoded


def _command(container: Container, fd: int, cap_s: float) -> list[str]:
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "level+info", "-xerror",
        "-protocol_whitelist", "file", "-codec_whitelist", ",".join(container.decoders),
        "-f", container.demuxer, "-i", f"/dev/fd/{fd}",
        "-map", "0:a:0", "-vn", "-sn", "-dn", "-t", f"{cap_s:.3f}",
        "-af", FILTERS, "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1",
    ]  # fmt: skip


def _run(command: list[str], fd: int, timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, pass_fds=(fd,),
            timeout=timeout_s, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:  # run() has killed and reaped ffmpeg
        raise AudioTimeout(detail=f"ffmpeg ran over {timeout_s} s") from exc
    except OSError as exc:
        message = "The audio converter (ffmpeg) could not be started."
        raise AudioError(message, detail=str(exc)) from exc


@contextmanager
def _input_file(data: bytes) -> Iterator[int]:
    """An unnamed, seekable file holding `data`; gone when closed (or if the process dies)."""
    file: IO[bytes]
    if hasattr(os, "memfd_create"):
        file = os.fdopen(os.memfd_create("pbx-audio", os.MFD_CLOEXEC), "w+b")
    else:  # pragma: no cover - non-Linux: an unlinked temporary file
        file = tempfile.TemporaryFile()
    with file:
        file.write(data)
        file.flush()
        yield file.fileno()


def _failure(log: FfmpegLog, returncode: int) -> AudioUndecodable:
    detail = "; ".join(log.errors) or f"ffmpeg exit status {returncode}"
    lowered = detail.lower()
    if any(hint.lower() in lowered for hint in NO_AUDIO_HINTS):
        return AudioUndecodable("The file contains no audio track.", detail=detail)
    if any(hint in lowered for hint in TRUNCATION_HINTS):
        return AudioTruncated(detail=detail)
    return AudioUndecodable(detail=detail)


def _looks_cut_short(decoded: Decoded) -> bool:
    """The container promised noticeably more audio than could be decoded."""
    if decoded.declared_ms is None:
        return False
    missing = decoded.declared_ms - decoded.decoded_ms
    return missing > max(300, decoded.declared_ms // 20)
