"""A weight-free fallback: harmonic/percussive separation by median filtering (Fitzgerald 2010).

Used when the Demucs weights are missing, and always labelled as such: it splits sustained,
pitched sound from transients; it does not find drums, bass or vocals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from musicapp.jobs import CancelToken, ProgressCallback
from musicapp.stems.streaming import AudioSource, run_chunked

FALLBACK_STEMS = ("harmonic", "percussive")
FALLBACK_LABEL = "DSP fallback (harmonic/percussive split, not a neural separation)"
NFFT = 2048
KERNEL = 17  # frames (harmonic) and bins (percussive) of the median filters


def hpss(audio: np.ndarray, rate: int) -> np.ndarray:
    """(channels, n) → (2, channels, n): harmonic and percussive parts; they sum to the input
    up to the STFT round trip, because the soft masks add up to one.

    Audio shorter than one FFT frame (a one-shot, a single drum hit) is padded with silence to
    a frame and the parts cut back to n: the STFT pads every signal's ends with zeros anyway,
    so this changes nothing but the frame count, and any length gets its two parts."""
    from scipy.ndimage import median_filter
    from scipy.signal import istft, stft

    n = audio.shape[-1]
    if n < NFFT:
        audio = np.pad(audio, ((0, 0), (0, NFFT - n)))
    _, _, spec = stft(audio, fs=rate, nperseg=NFFT, noverlap=NFFT * 3 // 4)
    mag = np.abs(spec)
    harm = median_filter(mag, size=(1, 1, KERNEL), mode="reflect")
    perc = median_filter(mag, size=(1, KERNEL, 1), mode="reflect")
    power_h, power_p = harm**2, perc**2
    mask_h = power_h / np.maximum(power_h + power_p, 1e-12)
    parts = []
    for mask in (mask_h, 1.0 - mask_h):
        _, y = istft(spec * mask, fs=rate, nperseg=NFFT, noverlap=NFFT * 3 // 4)
        y = y[..., :n]
        if y.shape[-1] < n:
            y = np.pad(y, ((0, 0), (0, n - y.shape[-1])))
        parts.append(y.astype(np.float32))
    return np.stack(parts)


def fallback_to_dir(
    source: AudioSource,
    out_dir: Path,
    progress: ProgressCallback,
    cancel: CancelToken,
    chunk_s: float = 30.0,
    overlap_s: float = 0.5,
) -> dict[str, Path]:
    """Harmonic/percussive stems of `source` at its own rate, one FLAC each, in chunks."""
    rate = source.samplerate

    def process(window: np.ndarray, report: Callable[[float], None]) -> np.ndarray:
        cancel.check()
        out = hpss(window[:2], rate)
        report(1.0)
        return out

    return run_chunked(
        source,
        process,
        FALLBACK_STEMS,
        out_dir,
        rate,
        min(source.channels, 2),
        progress,
        cancel,
        chunk_s,
        overlap_s,
        stage="fallback",
    )
