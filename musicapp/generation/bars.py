"""Fitting one reference bar into a slot of the output, and the crossfade ramps at its joins.

Shared by the song-level engine (concat.py) and the user-audio one (rerender.py), which concat
dispatches to: kept here so neither has to import the other back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from musicapp.audio.stretch import time_stretch
from musicapp.generation.layers import Source

STRETCH_TOLERANCE = 0.01  # a bar within 1% of the target length is used as it is


def slice_padded(audio: npt.NDArray[Any], a: int, b: int) -> npt.NDArray[Any]:
    """audio[:, a:b], with silence where the range runs off either end."""
    n = audio.shape[1]
    lo, hi = max(a, 0), min(b, n)
    out = np.zeros((audio.shape[0], b - a), dtype=np.float32)
    if hi > lo:
        out[:, lo - a : hi - a] = audio[:, lo:hi]
    return out


def render_bar(src: Source, bar: int, out_len: int, pre: int) -> tuple[npt.NDArray[Any], int]:
    """Bar `bar` of a source fitted to `out_len` samples, with `pre` samples of lead-in before;
    and how much of it is the bar itself (lead-in included): the rest must be faded away."""
    a, b = int(src.bars[bar]), int(src.bars[bar + 1])
    ratio = (b - a) / out_len
    if src.shift == 0 and abs(ratio - 1) <= STRETCH_TOLERANCE:
        # Used as it is. A bar a little shorter than its slot ends early rather than letting the
        # source's next downbeat sound as a ghost before the real one.
        return slice_padded(src.audio, a - pre, a + out_len), pre + min(out_len, b - a)
    # Stretch with some audio either side: a phase vocoder's first and last frames are unsure.
    margin = 2048
    lead = int(round(pre * ratio))
    seg = slice_padded(src.audio, a - lead - margin, b + margin)
    total = int(round(seg.shape[1] / ratio))
    y = time_stretch(seg, total, float(src.shift))
    off = int(round(margin / ratio))
    return slice_padded(y, off, off + pre + out_len), pre + out_len


def fade_ends(
    seg: npt.NDArray[Any], fade_in: int, fade_out: int, end: int, linear_in: bool, linear_out: bool
) -> None:
    """Crossfade ramps in place, the fade-out ending at sample `end` (silence after it):
    equal-power between different material, linear (which sums to one) where a bar continues
    into its own next bar."""
    if fade_in:
        t = (np.arange(fade_in) + 0.5) / fade_in
        seg[:, :fade_in] *= t if linear_in else np.sin(0.5 * np.pi * t)
    if fade_out:
        fade_out = min(fade_out, end)
        t = (np.arange(fade_out) + 0.5) / fade_out
        seg[:, end - fade_out : end] *= (1 - t) if linear_out else np.cos(0.5 * np.pi * t)
        seg[:, end:] = 0.0
