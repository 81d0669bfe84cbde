"""normalise_audio on real ffmpeg: every accepted format → master; every bad input → its error.

Inputs are made here: a speech-like signal (syllable bursts of a 180 Hz voice with harmonics,
between stretches of silence), synthesised with numpy and encoded by the real ffmpeg binary.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import time
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from pbx.media import errors
from pbx.media.audio import (
    MASTER_RATE,
    MasterAudio,
    energy_envelope,
    envelope_correlation,
    normalise_audio,
    read_master,
)
from pbx.media.decoder import ffmpeg_exe

SOURCE_RATE = 44100
LEAD_S, SPEECH_S, TAIL_S = 0.5, 2.0, 0.5
PAD_MS = 100  # kept by the trim on each side
LIMITS = {"max_bytes": 20_000_000, "max_seconds": 60}

# name → (ffmpeg output options, expected input_format)
FORMATS = {
    "wav": ([], "wav/pcm_s16le"),
    "mp3": (["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"], "mp3"),
    "ogg-opus": (["-c:a", "libopus", "-f", "ogg"], "ogg/opus"),
    "ogg-vorbis": (["-c:a", "libvorbis", "-f", "ogg"], "ogg/vorbis"),
    "webm-opus": (["-c:a", "libopus", "-ac", "1", "-ar", "48000", "-f", "webm"], "webm/opus"),
    "m4a": (["-c:a", "aac", "-f", "mp4"], "m4a/aac"),
    "m4a-faststart": (["-c:a", "aac", "-movflags", "+faststart", "-f", "mp4"], "m4a/aac"),
    "wav-mulaw": (["-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1", "-f", "wav"], "wav/pcm_mulaw"),
    "adts-aac": (["-c:a", "aac", "-f", "adts"], "aac"),
}


# --- input makers ---------------------------------------------------------------------------


def speech_like(seconds: float = SPEECH_S, rate: int = SOURCE_RATE) -> NDArray[np.float64]:
    """Syllable-like bursts: a 180 Hz voice with harmonics under a 2.3 Hz on/off envelope."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 2.3 * t) + 0.2, 0, None) ** 0.7
    result: NDArray[np.float64] = 0.3 * voice * syllables
    return result


def with_silence(signal: NDArray[np.float64], rate: int = SOURCE_RATE) -> NDArray[np.float64]:
    return np.concatenate([np.zeros(int(LEAD_S * rate)), signal, np.zeros(int(TAIL_S * rate))])


def wav_bytes(mono: NDArray[np.float64], rate: int = SOURCE_RATE, channels: int = 2) -> bytes:
    pcm = (np.clip(mono, -1, 1) * 32767).astype("<i2")
    frames = np.repeat(pcm, channels) if channels > 1 else pcm
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return buffer.getvalue()


def encode(wav: bytes, options: list[str], tmp_path: Path) -> bytes:
    """Encode with the real ffmpeg (through a file: MP4 needs a seekable output)."""
    if not options:
        return wav
    source, target = tmp_path / "in.wav", tmp_path / "out.bin"
    source.write_bytes(wav)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), *options, str(target)],
        check=True,
        timeout=60,
    )
    return target.read_bytes()


@pytest.fixture(scope="module")
def sample_wav() -> bytes:
    return wav_bytes(with_silence(speech_like()))


@pytest.fixture(scope="module")
def encoded(sample_wav: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    tmp = tmp_path_factory.mktemp("encoded")
    return {name: encode(sample_wav, options, tmp) for name, (options, _) in FORMATS.items()}


def assert_master(audio: MasterAudio) -> None:
    with wave.open(io.BytesIO(audio.wav), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.getcomptype() == "NONE"
        assert w.getnframes() * 1000 // 8000 == audio.duration_ms
    assert audio.content_type == "audio/wav"


# --- every accepted format ------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_becomes_a_master_of_the_right_duration(
    name: str, encoded: dict[str, bytes]
) -> None:
    audio = normalise_audio(encoded[name], **LIMITS)

    assert_master(audio)
    assert audio.input_format == FORMATS[name][1]
    expected_ms = SPEECH_S * 1000 + 2 * PAD_MS
    assert abs(audio.duration_ms - expected_ms) <= 120, audio.duration_ms
    assert abs(audio.input_duration_ms - (LEAD_S + SPEECH_S + TAIL_S) * 1000) <= 120


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_keeps_the_shape_of_the_sound(name: str, encoded: dict[str, bytes]) -> None:
    master = read_master(normalise_audio(encoded[name], **LIMITS).wav)
    reference = with_silence(speech_like(rate=MASTER_RATE), MASTER_RATE)
    start = int((LEAD_S - PAD_MS / 1000) * MASTER_RATE)

    correlation = envelope_correlation(
        energy_envelope(master, MASTER_RATE, 20),
        energy_envelope(reference[start:], MASTER_RATE, 20),
        max_lag=5,
    )
    assert correlation >= 0.9


def test_loudness_is_normalised_up_and_down(tmp_path: Path) -> None:
    quiet = normalise_audio(wav_bytes(speech_like() * 0.01), **LIMITS)
    loud = normalise_audio(wav_bytes(speech_like() * 3.0), **LIMITS)  # clipped square-ish

    assert quiet.gain_db > 20
    assert abs(quiet.rms_dbfs - loud.rms_dbfs) < 6
    for audio in (quiet, loud):
        assert audio.peak_dbfs <= -0.9
        assert -24 <= audio.rms_dbfs <= -12


def test_leading_and_trailing_silence_is_trimmed() -> None:
    long_pauses = np.concatenate([np.zeros(3 * SOURCE_RATE), speech_like(1.0), np.zeros(4 * 44100)])
    audio = normalise_audio(wav_bytes(long_pauses), **LIMITS)

    assert audio.input_duration_ms == 8000
    assert abs(audio.duration_ms - (1000 + 2 * PAD_MS)) <= 120


def test_content_decides_the_format_not_the_name(encoded: dict[str, bytes]) -> None:
    """There is no name or MIME parameter at all: MP3 bytes "called" x.wav are an MP3."""
    assert normalise_audio(encoded["mp3"], **LIMITS).input_format == "mp3"


def test_cover_art_and_video_tracks_are_ignored(encoded: dict[str, bytes], tmp_path: Path) -> None:
    """Music-on-hold MP3s often carry a cover picture; a WebM may carry video."""
    cover = tmp_path / "cover.png"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x64:d=1",
         "-frames:v", "1", str(cover)],
        check=True, timeout=60,
    )  # fmt: skip
    with_art = ["-i", str(cover), "-map", "0:a", "-map", "1:v", "-disposition:v", "attached_pic"]
    mp3 = encode(encoded["wav"], [*with_art, "-c:a", "libmp3lame", "-c:v", "png", "-f", "mp3"],
                 tmp_path)  # fmt: skip
    m4a = encode(encoded["wav"], [*with_art, "-c:a", "aac", "-c:v", "png", "-f", "mp4"], tmp_path)
    video = ["-f", "lavfi", "-i", "testsrc=s=64x64:d=3", "-map", "0:a", "-map", "1:v"]
    webm = encode(encoded["wav"], [*video, "-c:a", "libopus", "-c:v", "libvpx", "-f", "webm"],
                  tmp_path)  # fmt: skip

    for data, expected in ((mp3, "mp3"), (m4a, "m4a/aac"), (webm, "webm/opus")):
        assert normalise_audio(data, **LIMITS).input_format == expected


def test_an_unaccepted_codec_inside_an_accepted_container_is_named(
    sample_wav: bytes, tmp_path: Path
) -> None:
    flac_in_ogg = encode(sample_wav, ["-c:a", "flac", "-f", "ogg"], tmp_path)
    with pytest.raises(errors.AudioUnsupportedFormat) as caught:
        normalise_audio(flac_in_ogg, **LIMITS)
    assert "OGG file holds flac audio" in caught.value.message


# --- resampling -----------------------------------------------------------------------------


def spectrum_db(samples: NDArray[np.int16], freq_hz: float) -> float:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    magnitudes = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(samples), 1 / MASTER_RATE)
    band = (freqs > freq_hz - 20) & (freqs < freq_hz + 20)
    return float(20 * np.log10(magnitudes[band].max() + 1e-12))


def test_a_6_khz_tone_is_attenuated_at_least_40_db_not_aliased() -> None:
    t = np.arange(2 * SOURCE_RATE) / SOURCE_RATE
    both = 0.3 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)
    master = read_master(normalise_audio(wav_bytes(both), **LIMITS).wav)

    # Without a proper low-pass, 6 kHz folds to 8 − 6 = 2 kHz in the 8 kHz master.
    attenuation = spectrum_db(master, 1000) - spectrum_db(master, 2000)
    assert attenuation >= 40, attenuation


def test_a_lone_6_khz_tone_leaves_nothing_audible() -> None:
    t = np.arange(2 * SOURCE_RATE) / SOURCE_RATE
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.05)  # an abrupt start is a broadband click
    with pytest.raises(errors.AudioSilent):
        normalise_audio(wav_bytes(0.5 * fade * np.sin(2 * np.pi * 6000 * t)), **LIMITS)


# --- refusals -------------------------------------------------------------------------------


def test_zero_bytes_is_empty() -> None:
    with pytest.raises(errors.AudioEmpty) as caught:
        normalise_audio(b"", **LIMITS)
    assert caught.value.code == "audio_empty"


def test_a_wav_without_samples_is_empty() -> None:
    with pytest.raises(errors.AudioEmpty):
        normalise_audio(wav_bytes(np.zeros(0)), **LIMITS)


def test_too_many_bytes_is_refused_before_decoding() -> None:
    huge = b"RIFF" + bytes(30_000_000)
    started = time.perf_counter()
    with pytest.raises(errors.AudioTooLarge) as caught:
        normalise_audio(huge, max_bytes=10_000_000, max_seconds=60)
    assert time.perf_counter() - started < 0.5
    assert caught.value.code == "audio_too_large"
    assert "10.0 MB" in caught.value.message


def test_too_long_is_refused_and_decoding_stops_early() -> None:
    """A small file may hold hours of audio: decoding stops just past the limit."""
    ten_seconds = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=f=300:d=10:r=8000",
         "-c:a", "libmp3lame", "-b:a", "8k", "-write_xing", "0", "-id3v2_version", "0",
         "-f", "mp3", "pipe:1"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    an_hour = ten_seconds * 360  # MP3 frames simply follow one another
    assert len(an_hour) < 4_000_000

    started = time.perf_counter()
    with pytest.raises(errors.AudioTooLong) as caught:
        normalise_audio(an_hour, max_bytes=20_000_000, max_seconds=5)
    assert time.perf_counter() - started < 0.5
    assert "5 seconds" in caught.value.message


def test_exactly_the_limit_is_accepted(encoded: dict[str, bytes]) -> None:
    audio = normalise_audio(encoded["mp3"], max_bytes=10_000_000, max_seconds=3)
    assert audio.input_duration_ms <= 3000 + 250


# Raw ADTS is left out: it has no length or index, so half a stream is a shorter stream.
@pytest.mark.parametrize("name", [name for name in FORMATS if name != "adts-aac"])
def test_a_truncated_file_is_refused(name: str, encoded: dict[str, bytes]) -> None:
    data = encoded[name]
    with pytest.raises(errors.AudioTruncated) as caught:
        normalise_audio(data[: len(data) // 2], **LIMITS)
    assert caught.value.code == "audio_truncated"
    assert isinstance(caught.value, errors.AudioUndecodable)


@pytest.mark.parametrize("name", ["mp3", "m4a", "ogg-vorbis"])
def test_corrupt_middle_is_refused(name: str, encoded: dict[str, bytes]) -> None:
    data = encoded[name]
    middle = len(data) // 2
    corrupt = data[:middle] + bytes(range(256)) * 16 + data[middle + 4096 :]
    with pytest.raises(errors.AudioUndecodable):
        normalise_audio(corrupt, **LIMITS)


def test_garbage_after_a_valid_looking_header_is_undecodable() -> None:
    noise = np.random.default_rng(1).bytes(50_000)
    for header in (b"\xff\xfb\x90\x64", b"ID3\x04\x00\x00\x00\x00\x00\x00", b"OggS\x00\x02"):
        with pytest.raises(errors.AudioUndecodable):
            normalise_audio(header + noise, **LIMITS)


def zip_named_wav() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("greeting.wav", b"not really")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "PNG"),
        (zip_named_wav(), "ZIP"),
        (b"<!doctype html><html><body>greeting.wav</body></html>", "web page"),
        (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", "web page"),
        (b"%PDF-1.7\n", "PDF"),
        (b"Hello, this is a text file renamed to message.mp3\n" * 10, "Accepted"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP"),
    ],
)
def test_non_audio_is_refused_and_named(data: bytes, what: str) -> None:
    with pytest.raises(errors.AudioUnsupportedFormat) as caught:
        normalise_audio(data, **LIMITS)
    assert what in caught.value.message
    assert caught.value.code == "audio_unsupported_format"


def test_polyglot_png_header_glued_to_mp3_is_refused(encoded: dict[str, bytes]) -> None:
    png_header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
    with pytest.raises(errors.AudioUnsupportedFormat):
        normalise_audio(png_header + encoded["mp3"], **LIMITS)


def test_polyglot_ogg_with_a_zip_appended_is_refused(encoded: dict[str, bytes]) -> None:
    with pytest.raises(errors.AudioUndecodable):
        normalise_audio(encoded["ogg-opus"] + zip_named_wav(), **LIMITS)


def test_a_file_without_an_audio_track_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "video.webm"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=d=1:s=64x64", "-c:v",
         "libvpx", str(target)],
        check=True, timeout=60,
    )  # fmt: skip
    with pytest.raises(errors.AudioUndecodable) as caught:
        normalise_audio(target.read_bytes(), **LIMITS)
    assert "no audio track" in caught.value.message


@pytest.mark.parametrize(
    "signal",
    [np.zeros(2 * SOURCE_RATE), np.random.default_rng(2).normal(0, 10 ** (-75 / 20), 2 * 44100)],
    ids=["digital-zero", "hiss-at-minus-75-dBFS"],
)
def test_silence_is_refused(signal: NDArray[np.float64], tmp_path: Path) -> None:
    for data in (wav_bytes(signal), encode(wav_bytes(signal), FORMATS["mp3"][0], tmp_path)):
        with pytest.raises(errors.AudioSilent) as caught:
            normalise_audio(data, **LIMITS)
        assert caught.value.code == "audio_silent"


def test_a_slow_conversion_times_out(encoded: dict[str, bytes]) -> None:
    with pytest.raises(errors.AudioTimeout):
        normalise_audio(encoded["m4a"], **LIMITS, timeout_s=0.001)


def test_no_temporary_files_or_descriptors_are_left(
    encoded: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    fds_before = set(os.listdir("/proc/self/fd"))

    normalise_audio(encoded["m4a"], **LIMITS)
    for bad in (encoded["m4a"][:5000], b"<html>", encoded["webm-opus"][:-100]):
        with pytest.raises(errors.AudioError):
            normalise_audio(bad, **LIMITS)
    with pytest.raises(errors.AudioTimeout):
        normalise_audio(encoded["mp3"], **LIMITS, timeout_s=0.001)

    assert list(scratch.iterdir()) == []
    assert set(os.listdir("/proc/self/fd")) <= fds_before


def test_every_error_has_a_code_and_an_english_message() -> None:
    for cls in (errors.AudioEmpty, errors.AudioTooLarge, errors.AudioTooLong,
                errors.AudioSilent, errors.AudioUndecodable, errors.AudioTruncated,
                errors.AudioUnsupportedFormat, errors.AudioTimeout):  # fmt: skip
        error = cls()
        assert error.code.startswith("audio_")
        assert error.message.endswith(".") and str(error) == error.message
