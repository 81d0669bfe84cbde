"""Media benchmark (issue 6): offline text-to-speech and upload normalisation.

    .venv/bin/python benchmarks/media_bench.py [--repeat N] [--messages N] [--compare]

Prints medians (and p90) of:
- offline text-to-speech (espeak-ng) of a ~10-second Swedish prompt, normalised to the master
  (target < 300 ms; storing is measured with the storage layer, not here);
- normalising a 30-second 44.1 kHz stereo MP3 (target < 200 ms);
- synthesise + normalise per message over varied prompts, extrapolated to 1,000 messages
  (target < 2 minutes).
`--compare` also times the alternatives that were not chosen (ffmpeg `loudnorm`, swr).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pbx.media import decoder  # noqa: E402
from pbx.media.audio import normalise_audio  # noqa: E402
from pbx.media.espeak import EspeakLibrary  # noqa: E402
from pbx.media.sniff import MP3  # noqa: E402
from pbx.media.tts import EspeakEngine, to_master  # noqa: E402
from pbx.media.wav import encode_wav  # noqa: E402

SWEDISH_PROMPT = (
    "Välkommen till Exempelföretaget. Vårt kontor har öppet vardagar mellan åtta och "
    "sjutton. Tryck ett för växeln, två för support och tre för ekonomi."
)
PROMPT_PARTS = [
    "Välkommen till {company}.",
    "Du har kommit till {company}s växel.",
    "Tryck ett för försäljning, två för support och tre för ekonomi.",
    "Alla våra handläggare är upptagna just nu, var god dröj.",
    "Vårt kontor har öppet vardagar mellan klockan åtta och sjutton.",
    "Du är nummer {n} i kön.",
    "Lämna ett meddelande efter tonen så ringer vi upp dig.",
]
LIMITS = {"max_bytes": 50_000_000, "max_seconds": 300}


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    action()  # warm-up: library loads, page cache, first ffmpeg start
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples_ms: list[float], target_ms: float | None = None) -> float:
    median = statistics.median(samples_ms)
    p90 = sorted(samples_ms)[int(0.9 * (len(samples_ms) - 1))]
    verdict = "" if target_ms is None else ("  OK" if median < target_ms else "  OVER TARGET")
    target = "" if target_ms is None else f"  (target < {target_ms:.0f} ms)"
    print(f"{label:<58} median {median:7.1f} ms  p90 {p90:7.1f} ms{target}{verdict}")
    return median


def thirty_second_mp3() -> bytes:
    """30 s of speech-like stereo at 44.1 kHz, 192 kbit/s MP3, made by ffmpeg."""
    rate = 44100
    t = np.arange(30 * rate) / rate
    voice = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 8))
    left = 0.3 * voice * np.clip(np.sin(2 * np.pi * 2.3 * t) + 0.2, 0, None)
    stereo = np.stack([left, 0.8 * left], axis=1)
    pcm = (stereo * 32767).astype("<i2").tobytes()
    return subprocess.run(
        [decoder.ffmpeg_exe(), "-v", "error", "-f", "s16le", "-ar", str(rate), "-ac", "2",
         "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3", "pipe:1"],
        input=pcm, capture_output=True, check=True,
    ).stdout  # fmt: skip


def bench_tts(repeat: int) -> None:
    engine = EspeakEngine()
    spoken = engine.synthesise(SWEDISH_PROMPT, "sv")
    print(f"Swedish prompt: {len(SWEDISH_PROMPT)} characters → {spoken.duration_ms} ms of speech")
    library = EspeakLibrary.shared()
    pcm = library.synthesise(SWEDISH_PROMPT, "sv", words_per_minute=engine.words_per_minute)
    raw_wav = encode_wav(np.frombuffer(pcm.data, dtype="<i2"), pcm.rate)
    wpm = engine.words_per_minute
    synth_only = timed(
        lambda: library.synthesise(SWEDISH_PROMPT, "sv", words_per_minute=wpm), repeat
    )
    report("  espeak-ng synthesis only (22050 Hz PCM)", synth_only)
    report(
        "  normalisation only (ffmpeg soxr + numpy gain/trim)",
        timed(lambda: to_master(raw_wav), repeat),
    )
    both = timed(lambda: engine.synthesise(SWEDISH_PROMPT, "sv"), repeat)
    report("offline TTS, 10 s Swedish prompt, synth + normalise", both, 300)


def bench_mp3(repeat: int) -> None:
    mp3 = thirty_second_mp3()
    audio = normalise_audio(mp3, **LIMITS)
    print(f"MP3: {len(mp3) / 1e6:.2f} MB, 44.1 kHz stereo → master {audio.duration_ms} ms")
    report(
        "normalise a 30 s 44.1 kHz stereo MP3",
        timed(lambda: normalise_audio(mp3, **LIMITS), repeat),
        200,
    )


def bench_bulk(messages: int) -> None:
    engine = EspeakEngine()
    prompts = [
        " ".join(PROMPT_PARTS[(i + k) % len(PROMPT_PARTS)] for k in range(3)).format(
            company=f"Företag {i}", n=i % 9 + 1
        )
        for i in range(messages)
    ]
    engine.synthesise(prompts[0], "sv")
    started = time.perf_counter()
    spoken_ms = sum(engine.synthesise(text, "sv").duration_ms for text in prompts)
    elapsed = time.perf_counter() - started
    per_message = elapsed / messages * 1000
    print(f"bulk: {messages} prompts, {spoken_ms / messages / 1000:.1f} s of speech each")
    thousand_s = per_message  # 1,000 messages × per_message ms = per_message s
    verdict = "OK" if thousand_s < 120 else "OVER TARGET"
    label = "synth + normalise per message"
    print(
        f"{label:<58} mean   {per_message:7.1f} ms"
        f"  → 1,000 messages ≈ {thousand_s:.0f} s (target < 120 s)  {verdict}"
    )


def bench_alternatives(repeat: int) -> None:
    """The roads not taken, on the same 30 s MP3, decode + resample only."""
    mp3 = thirty_second_mp3()
    sniffed = MP3
    chosen = decoder.FILTERS
    swr = chosen.replace("resampler=soxr:precision=28", "resampler=swr")
    variants = {
        "chosen: soxr + highpass (gain in numpy)": chosen,
        "swr resampler instead of soxr": swr,
        "+ ffmpeg loudnorm (one pass, EBU R128)": chosen + ",loudnorm=I=-20:TP=-1",
    }

    def decode_only() -> object:
        return decoder.decode(mp3, sniffed, max_seconds=300, timeout_s=60)

    try:
        for label, filters in variants.items():
            decoder.FILTERS = filters  # read by the decoder on every call
            report(f"  {label}", timed(decode_only, repeat))
    finally:
        decoder.FILTERS = chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    bench_tts(args.repeat)
    bench_mp3(args.repeat)
    bench_bulk(args.messages)
    if args.compare:
        print("alternatives (30 s MP3, ffmpeg part only):")
        bench_alternatives(max(5, args.repeat // 2))


if __name__ == "__main__":
    main()
