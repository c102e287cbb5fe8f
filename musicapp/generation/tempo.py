"""The concat engine's target tempo: near the weighted median, and within a stretch the ear takes.

A reference plays at its own tempo, at half or at double time (a 70 BPM ballad sits under a 140
BPM reel as its half time), stretched to the target. Past about a quarter faster or slower a
phase vocoder smears transients and voices sound wrong, so the target is the tempo nearest the
weighted median of the references' tempi that keeps every one of them within MAX_STRETCH; when
none does, the median stays and the take says which reference is stretched how far.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_STRETCH = 0.25  # a reference may be played up to 25 % faster or slower
FOLDS = (0.5, 1.0, 2.0)  # half time, its own tempo, double time


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    pairs = sorted(zip(values, weights, strict=True))
    half = 0.5 * sum(w for _v, w in pairs)
    acc = 0.0
    for v, w in pairs:
        acc += w
        if acc >= half:
            return float(v)
    return float(pairs[-1][0])


def fold(tempo: float, target: float) -> float:
    """The factor (1/2, 1 or 2) that brings a tempo nearest the target, in octaves."""
    return min(FOLDS, key=lambda f: abs(math.log2(tempo * f / target)))


def stretch(tempo: float, target: float) -> float:
    """How much faster (> 0) or slower (< 0) a reference plays at `target`, after folding."""
    return target / (tempo * fold(tempo, target)) - 1.0


def _fits(tempo: float, target: float) -> bool:
    return abs(stretch(tempo, target)) <= MAX_STRETCH + 1e-9


def choose_tempo(
    tempi: Sequence[float],
    weights: Sequence[float],
    names: Sequence[str],
    forced: float | None = None,
) -> tuple[float, tuple[str, ...]]:
    """The target tempo and notes for the take's record (why this tempo; who is stretched far).

    `forced` (the user's own tempo option) is kept as it is, with a note for each reference it
    stretches past MAX_STRETCH.
    """
    notes: list[str] = []
    if forced is not None:
        target = forced
    else:
        rough = weighted_median(tempi, weights)
        median = weighted_median([t * fold(t, rough) for t in tempi], weights)
        target = median
        if not all(_fits(t, median) for t in tempi):
            # The feasible set is a union of intervals; its point nearest the median is the
            # median itself or one of the intervals' ends.
            ends = [
                t * f * (1.0 + sign * MAX_STRETCH) for t in tempi for f in FOLDS for sign in (-1, 1)
            ]
            feasible = [c for c in ends if all(_fits(t, c) for t in tempi)]
            if feasible:
                target = min(feasible, key=lambda c: abs(math.log2(c / median)))
                notes.append(
                    f"tempo {target:.1f} BPM rather than the weighted median {median:.1f} BPM, "
                    f"so that no reference is stretched by more than {MAX_STRETCH:.0%}"
                )
    for t, name in zip(tempi, names, strict=True):
        if not _fits(t, target):
            s = stretch(t, target)
            how = "double time" if fold(t, target) == 2.0 else "half time"
            folded = f" ({how})" if fold(t, target) != 1.0 else ""
            notes.append(
                f"{name} ({t:.0f} BPM{folded}) is played {abs(s):.0%} "
                f"{'faster' if s > 0 else 'slower'} at {target:.1f} BPM, past the "
                f"{MAX_STRETCH:.0%} a stretch keeps natural; pick references with closer tempi "
                "or set the tempo"
            )
    return target, tuple(notes)
