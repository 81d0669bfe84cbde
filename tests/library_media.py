"""Test audio and pictures for the message-library tests, made with numpy, the real ffmpeg,
the real espeak-ng and Pillow.

`offline_tts()` is the production engine chain (gTTS first, espeak-ng second) with only the
internet faked away: gTTS's fetch fails like a machine without network does.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pbx.media.decoder import ffmpeg_exe
from pbx.media.tts import EspeakEngine, FallbackTts, GttsEngine

SOURCE_RATE = 44100

# name → ffmpeg output options (the upload formats the site accepts)
FORMATS = {
    "wav": [],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"],
    "ogg": ["-c:a", "libopus", "-f", "ogg"],
    "webm": ["-c:a", "libopus", "-ac", "1", "-ar", "48000", "-f", "webm"],
    "m4a": ["-c:a", "aac", "-f", "mp4"],
}


def speech_like(seconds: float, rate: int = SOURCE_RATE, seed: int = 1) -> NDArray[np.float64]:
    """Syllable bursts of a 180 Hz voice with harmonics, irregular like speech, so an energy
    envelope has a shape to compare."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 8))
    bursts = np.repeat(rng.uniform(0.0, 1.0, int(seconds * 5) + 1) > 0.35, rate // 5)
    envelope = np.convolve(bursts[: t.size].astype(float), np.hanning(rate // 50), "same")
    envelope /= max(float(envelope.max()), 1e-9)
    result: NDArray[np.float64] = 0.3 * voice * envelope
    return result


def wav_bytes(mono: NDArray[np.float64], rate: int = SOURCE_RATE) -> bytes:
    pcm = (np.clip(mono, -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def speech_wav(seconds: float = 2.0, seed: int = 1, lead_s: float = 0.3) -> bytes:
    """A speech-like WAV with a little silence around it."""
    lead = np.zeros(int(lead_s * SOURCE_RATE))
    return wav_bytes(np.concatenate([lead, speech_like(seconds, seed=seed), lead]))


def silent_wav(seconds: float = 2.0) -> bytes:
    return wav_bytes(np.zeros(int(seconds * SOURCE_RATE)))


def encode(wav: bytes, name: str) -> bytes:
    """`wav` in one of FORMATS, encoded by the real ffmpeg."""
    options = FORMATS[name]
    if not options:
        return wav
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.wav", Path(tmp) / "out.bin"
        source.write_bytes(wav)
        command = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), *options, str(target)]
        subprocess.run(command, check=True, timeout=60)
        return target.read_bytes()


def picture_bytes(width: int = 640, height: int = 480, fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 200))
    for x in range(0, width, 40):
        image.paste((240, 200, 40), (x, 0, x + 20, height))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def no_internet(text: str, language: str, timeout_s: float) -> bytes:
    raise OSError("[Errno -2] Name or service not known (tests run without the internet)")


def offline_tts() -> FallbackTts:
    return FallbackTts([GttsEngine(fetch=no_internet, timeout_s=1.0), EspeakEngine()])
