"""Splicing a processed time range back into the audio it came from, with crossfades.

Editing a range of the user's audio (tone-matching bars 8-16, say) must leave everything outside
it sample for sample, and the joins must not click: each edge gets an equal-power (sine/cosine)
crossfade inside the range, so the range's outside is untouched and a join between two
uncorrelated signals keeps its loudness.
"""

from __future__ import annotations

import numpy as np

from musicapp.audio.io import AudioError, as_audio
from musicapp.core import TimeRange

CROSSFADE_S = 0.02


def range_samples(at_range: TimeRange, sr: int, n: int, what: str = "the audio") -> tuple[int, int]:
    """[start, end) in samples of a range inside audio of n samples; InvalidInput when the range
    runs past the end (TimeRange.check_within) or covers no whole sample."""
    if sr <= 0:
        raise AudioError(f"splice: sample rate must be positive, got {sr}")
    at_range.check_within(n / sr, what)
    start = int(round(at_range.start_s * sr))
    end = min(int(round(at_range.end_s * sr)), n)
    if end <= start:
        raise AudioError(
            f"time range {at_range.start_s:g}-{at_range.end_s:g} s is shorter than one sample"
        )
    return start, end


def cut(audio: np.ndarray, at_range: TimeRange, sr: int, what: str = "the audio") -> np.ndarray:
    """The samples of `audio` inside `at_range` (a copy)."""
    audio = as_audio(audio, what)
    start, end = range_samples(at_range, sr, audio.shape[1], what)
    return audio[:, start:end].copy()


def splice(
    base: np.ndarray,
    processed: np.ndarray,
    at_range: TimeRange,
    sr: int,
    crossfade_s: float = CROSSFADE_S,
) -> np.ndarray:
    """`base` with `at_range` replaced by `processed`, crossfaded at both edges.

    `processed` is either the range's own samples (as long as the range) or a whole processed
    copy of `base` (as long as `base`), of which the range is taken. The output is as long as
    `base`; outside the range it is `base` exactly. The crossfades lie inside the range (at most
    a quarter of it each) and are skipped where the range touches the start or the end."""
    base = as_audio(base, "splice base")
    processed = as_audio(processed, "splice processed audio")
    n = base.shape[1]
    start, end = range_samples(at_range, sr, n, "the audio being spliced")
    if processed.shape[1] == n and end - start != n:
        processed = processed[:, start:end]
    if processed.shape[1] != end - start:
        raise AudioError(
            f"splice: processed audio has {processed.shape[1]} samples, the range "
            f"{at_range.start_s:g}-{at_range.end_s:g} s has {end - start}"
        )
    if processed.shape[0] != base.shape[0]:
        raise AudioError(
            f"splice: processed audio has {processed.shape[0]} channels, the base {base.shape[0]}"
        )
    if crossfade_s < 0:
        raise AudioError(f"splice: crossfade must not be negative, got {crossfade_s:g} s")
    fade = min(int(round(crossfade_s * sr)), (end - start) // 4)
    gain = np.ones(end - start, dtype=np.float64)
    if fade > 0:
        ramp = np.sin(0.5 * np.pi * (np.arange(fade) + 0.5) / fade)
        if start > 0:
            gain[:fade] = ramp
        if end < n:
            gain[-fade:] = np.minimum(gain[-fade:], ramp[::-1])
    out = base.copy()
    dry = np.sqrt(np.maximum(0.0, 1.0 - gain**2))  # equal power: wet**2 + dry**2 == 1
    out[:, start:end] = (processed * gain + base[:, start:end] * dry).astype(np.float32)
    return out
