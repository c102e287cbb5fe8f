"""The stereo mix of a song's stems: a fixed pan per stem and one peak-safe gain per song."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from musicapp.core import Stem

# float32 samples: (samples,) for a stem, (channels, samples) for a mix.
Audio = npt.NDArray[np.float32]

# Headroom under full scale, so a mix never clips when written to a 16-bit file.
PEAK_CEILING = 0.98
# Stems other than the melody and the bass take these places, in stem order: a chorale's alto
# and tenor, a band's guitar and drums, end up either side of the centre.
_SIDE_PANS = (-0.5, 0.5, -0.25, 0.25, -0.75, 0.75, -0.1, 0.1)
# An imported recording has no stems: its channels are stored as these (role "mix") and mixed
# back with fixed gains, so load_audio gives the recording as it was (mono on both sides).
MIX_STEMS = (
    Stem("mix-mono", "full mix", "mix", "mix"),
    Stem("mix-left", "full mix (left)", "mix", "mix"),
    Stem("mix-right", "full mix (right)", "mix", "mix"),
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
    """(stems, 2) left/right gains from the pans, with the constant-power pan law."""
    gains = np.empty((len(stems), 2), dtype=np.float32)
    for i, (stem, pan) in enumerate(zip(stems, pan_positions(stems), strict=True)):
        theta = (pan + 1.0) * math.pi / 4.0
        fixed = _MIX_GAINS.get(stem.name) if stem.role == "mix" else None
        gains[i] = fixed or (math.cos(theta), math.sin(theta))
    return gains


def mixdown(tracks: Sequence[Audio], gains: Audio, gain: float = 1.0) -> Audio:
    """Sum mono tracks (samples,) into float32 (2, samples) with per-track gains and a master gain.

    Tracks of different lengths are cut to the shortest.
    """
    if not tracks:
        return np.zeros((2, 0), dtype=np.float32)
    n = min(len(t) for t in tracks)
    out = np.zeros((2, n), dtype=np.float32)
    for track, lr in zip(tracks, gains, strict=True):
        out += lr[:, None] * track[None, :n]
    out *= gain
    return out


def peak_safe_gain(mix: Audio) -> float:
    """The master gain that keeps a mix's peak at or under PEAK_CEILING (never boosts)."""
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    return 1.0 if peak <= PEAK_CEILING else PEAK_CEILING / peak
