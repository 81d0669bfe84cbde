"""Levels: silence trimming, loudness normalisation and energy envelopes (numpy only).

Loudness normalisation is a gated RMS gain: the RMS of the windows that carry sound (the
trimmed-off silence and pauses far below the loudest part do not count) is brought to
`TARGET_RMS_DBFS`, unless that would push the peak above `PEAK_CEILING_DBFS`. For speech at
telephone rate this tracks EBU R128 closely enough, costs microseconds instead of the tens of
milliseconds of ffmpeg's two-pass `loudnorm`, and never changes the dynamics of the recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pbx.media.errors import AudioSilent
from pbx.media.wav import Samples, to_int16

Floats = NDArray[np.floating[Any]]

WINDOW_MS = 10
SILENCE_FLOOR_DBFS = -50.0  # a window quieter than this is silence, whatever the rest
TRIM_BELOW_LOUDEST_DB = 35.0  # …and so is one this far below the loudest window
TRIM_PAD_MS = 100  # kept around the sound so soft onsets and endings survive the trim
TARGET_RMS_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
MAX_GAIN_DB = 30.0


@dataclass(frozen=True)
class Levelled:
    """Trimmed, gain-normalised samples and the figures that describe them."""

    samples: Samples
    peak_dbfs: float
    rms_dbfs: float
    gain_db: float


def dbfs(value: float) -> float:
    """Linear amplitude (1.0 = full scale) → dBFS; silence is -inf."""
    return float(20 * np.log10(value)) if value > 0 else float("-inf")


def window_rms(samples: Floats, window: int) -> NDArray[np.float64]:
    """RMS of consecutive non-overlapping windows (a last partial window counts)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return np.zeros(0)
    padded = np.zeros(-(-x.size // window) * window)
    padded[: x.size] = x
    rms: NDArray[np.float64] = np.sqrt(np.mean(padded.reshape(-1, window) ** 2, axis=1))
    return rms


def trim_and_level(samples: Floats, rate: int) -> Levelled:
    """Trim leading/trailing silence and normalise loudness; raise AudioSilent if all quiet."""
    window = max(1, rate * WINDOW_MS // 1000)
    rms = window_rms(samples, window)
    loudest = dbfs(float(rms.max(initial=0.0)))
    if loudest < SILENCE_FLOOR_DBFS:
        raise AudioSilent()
    threshold = 10 ** (max(SILENCE_FLOOR_DBFS, loudest - TRIM_BELOW_LOUDEST_DB) / 20)
    active = np.flatnonzero(rms >= threshold)
    pad = rate * TRIM_PAD_MS // 1000
    start = max(0, int(active[0]) * window - pad)
    end = min(len(samples), (int(active[-1]) + 1) * window + pad)
    kept = np.asarray(samples[start:end], dtype=np.float64)
    gain_db = _gain_db(kept, float(np.sqrt(np.mean(rms[active] ** 2))))
    levelled = to_int16(kept * 10 ** (gain_db / 20))
    as_float = levelled.astype(np.float64) / 32767.0
    return Levelled(
        samples=levelled,
        peak_dbfs=round(dbfs(float(np.abs(as_float).max())), 2),
        rms_dbfs=round(dbfs(float(np.sqrt(np.mean(as_float**2)))), 2),
        gain_db=round(gain_db, 2),
    )


def _gain_db(kept: NDArray[np.float64], active_rms: float) -> float:
    """Gain that brings the gated RMS to target without the peak passing the ceiling."""
    peak = float(np.abs(kept).max())
    to_target = TARGET_RMS_DBFS - dbfs(active_rms)
    to_ceiling = PEAK_CEILING_DBFS - dbfs(peak)
    return min(to_target, to_ceiling, MAX_GAIN_DB)


def energy_envelope(
    samples: Floats | Samples, rate: int, window_ms: int = 20
) -> NDArray[np.float64]:
    """RMS per `window_ms` window, full scale = 1.0 (int16 input is scaled)."""
    x = np.asarray(samples, dtype=np.float64)
    if np.issubdtype(np.asarray(samples).dtype, np.integer):
        x = x / 32768.0
    return window_rms(x, max(1, rate * window_ms // 1000))


def envelope_correlation(
    a: NDArray[np.float64], b: NDArray[np.float64], *, max_lag: int = 0
) -> float:
    """Best Pearson correlation of two envelopes over shifts of up to `max_lag` windows.

    Gain-independent, so a recording compares well with the audio fed to it even after
    normalisation; the shift absorbs start-up latency. Overlaps shorter than half the shorter
    envelope are not considered. Returns 0.0 when nothing comparable is left.
    """
    shortest = min(len(a), len(b))
    best = 0.0
    for lag in range(-max_lag, max_lag + 1):
        x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        n = min(len(x), len(y))
        if n < max(2, shortest // 2):
            continue
        best = max(best, _pearson(x[:n], y[:n]))
    return best


def _pearson(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    if float(np.std(x)) == 0.0 or float(np.std(y)) == 0.0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])
