"""How a song's stems sit in its stereo mix: pans for rendered parts, recorded stems as they are."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from musicapp.core import Stem

# float32 samples: (samples,) for a mono track, (channels, samples) for stereo audio.
Audio = npt.NDArray[np.float32]

# Headroom under full scale, so a mix of rendered parts never clips when written to a file.
PEAK_CEILING = 0.98
# How a song's mono stems are placed (the songs table's stem_layout):
# rendered parts (the demo) are spread across the stereo field by pan_positions, constant
# power, under one peak-safe gain; recorded stems (imports) sit as they were recorded: a mono
# stem in the centre at full level on both sides, a stereo stem with its own image.
SPREAD = "spread"
RECORDED = "recorded"
LAYOUTS = (SPREAD, RECORDED)
# Stems other than the melody and the bass take these places, in stem order: a chorale's alto
# and tenor, a band's guitar and drums, end up either side of the centre.
_SIDE_PANS = (-0.5, 0.5, -0.25, 0.25, -0.75, 0.75, -0.1, 0.1)
# Songs imported before recordings kept their own image stored their channels as these stems
# (role "mix"), mixed back with fixed gains. They are not stems (Song.stems leaves them out);
# the store still reads them as such a song's own mix, exactly as it did.
MIX_ROLE = "mix"
MIX_STEMS = (
    Stem("mix-mono", "full mix", "mix", MIX_ROLE),
    Stem("mix-left", "full mix (left)", "mix", MIX_ROLE),
    Stem("mix-right", "full mix (right)", "mix", MIX_ROLE),
)
_MIX_GAINS = {"mix-mono": (1.0, 1.0), "mix-left": (1.0, 0.0), "mix-right": (0.0, 1.0)}


def pan_positions(stems: Sequence[Stem]) -> list[float]:
    """Pan of each stem in [-1 (left), 1 (right)]: melody and bass centred, the rest spread."""
    melodies = [i for i, s in enumerate(stems) if s.role == "melody"]
    pans: list[float] = []
    side = 0
    for i, stem in enumerate(stems):
        if stem.role == "bass":
            pans.append(0.0)
        elif stem.role == "melody":
            # Two or more melody stems (a duet) sit slightly apart rather than on top of each other.
            n = len(melodies)
            pans.append(0.0 if n == 1 else -0.2 + 0.4 * melodies.index(i) / (n - 1))
        else:
            pans.append(_SIDE_PANS[side % len(_SIDE_PANS)])
            side += 1
    return pans


def stereo_gains(stems: Sequence[Stem]) -> Audio:
    """(stems, 2) left/right gains of spread mono stems: the pans with the constant-power law."""
    gains = np.empty((len(stems), 2), dtype=np.float32)
    for i, (stem, pan) in enumerate(zip(stems, pan_positions(stems), strict=True)):
        theta = (pan + 1.0) * math.pi / 4.0
        fixed = _MIX_GAINS.get(stem.name) if stem.role == MIX_ROLE else None
        gains[i] = fixed or (math.cos(theta), math.sin(theta))
    return gains


def layout_gains(stems: Sequence[Stem], layout: str) -> Audio:
    """(stems, 2) left/right gains of each stem when it is mono, for a song's stem layout."""
    if layout == SPREAD:
        return stereo_gains(stems)
    return np.ones((len(stems), 2), dtype=np.float32)


def place(track: Audio, lr: Audio, gain: float = 1.0) -> Audio:
    """A stored track as it sits in the mix, float32 (2, samples): a mono one (1, n) or (n,)
    at its left/right gains, a stereo one (2, n) as it is; both times the song's gain."""
    track = np.asarray(track, dtype=np.float32)
    if track.ndim == 2 and track.shape[0] == 2:
        out = track * np.float32(gain)
    else:
        mono = track.reshape(-1)
        out = (lr[:, None] * np.float32(gain)) * mono[None, :]
    return np.ascontiguousarray(out, dtype=np.float32)


def mixdown(tracks: Sequence[Audio], gains: Audio, gain: float = 1.0) -> Audio:
    """Sum tracks (mono (samples,) or (1, n), stereo (2, n)) into float32 (2, samples), mono ones
    at their per-track gains, all times a master gain. Tracks are cut to the shortest."""
    if not tracks:
        return np.zeros((2, 0), dtype=np.float32)
    n = min(np.asarray(t).shape[-1] for t in tracks)
    out = np.zeros((2, n), dtype=np.float32)
    for track, lr in zip(tracks, gains, strict=True):
        out += place(np.asarray(track)[..., :n], lr, gain)
    return out


def peak_safe_gain(mix: Audio) -> float:
    """The master gain that keeps a mix's peak at or under PEAK_CEILING (never boosts)."""
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    return 1.0 if peak <= PEAK_CEILING else PEAK_CEILING / peak
