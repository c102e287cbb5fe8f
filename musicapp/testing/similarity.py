"""Objective conditioning checks: how close an output is to a reference in pitch, timbre, rhythm.

Melody: correlation of the average chroma. Timbre: distance between mean MFCC-like vectors.

Rhythm ("onset pattern"): each signal's rhythm template is the spectral flux of its band above
ONSET_BAND_HZ (where drum hits, strums and picked attacks stand out and sustained pitched notes
hardly move), averaged in each sixteenth slot of the bar, every frame placed within its own
bar's boundaries (the output's bars from its plan, a reference's as the engine cut it, or a
steady grid from the catalogue's tempo and downbeat: `bar_grid`). Two templates of the same
meter are compared by Pearson correlation, which is symmetric and ignores level. On the demo
songs (melody bach-bwv269, timbre oneills-1183, rhythm ryans-soldiers-joy) the output correlates
0.97 with C's mix against 0.90 with B's (whose bodhran plays eighths on the same beats); with
the rhythm and timbre roles swapped, 0.93 with B against 0.82 with C. The full-band flux, or
slots finer than sixteenths, lose the difference: every part's notes start on the beats, and
stretching to the target tempo jitters hits across finer slots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicapp.audio.analysis import spectral
from musicapp.audio.beats import FRAME_RATE, mono
from musicapp.audio.spectrum import stft
from musicapp.core import GenerationRequest, Role
from musicapp.generation.base import Conditioning
from musicapp.generation.concat import ConcatEngine
from musicapp.generation.layers import stem_role
from musicapp.jobs import CancelToken, no_progress

# Rhythm: onsets of the band where drums, strums and picks stand out from sustained pitched
# notes (their partials rarely reach this high with any flux), on a grid of sixteenths.
ONSET_BAND_HZ = 3000.0
STEPS_PER_BEAT = 4  # sixteenths: finer slots split one hit across two with tempo and beat jitter


def pitch_profile(audio: np.ndarray, sr: int) -> np.ndarray:
    """The average chroma, weighted by nothing: which pitch classes sound, and how much."""
    c = spectral(audio, sr).chroma
    return c.mean(axis=1) if c.size else np.zeros(12)


def chroma_similarity(a: np.ndarray, b: np.ndarray, sr: int) -> float:
    """Correlation (-1..1) of the two pieces' pitch profiles: the same key and tune is near 1."""
    return _corr(pitch_profile(a, sr), pitch_profile(b, sr))


def timbre_vector(audio: np.ndarray, sr: int) -> np.ndarray:
    """The mean MFCC-like vector without its level term, over frames that sound."""
    s = spectral(audio, sr)
    ceps = s.timbre
    loud = ceps[0] > ceps[0].max() - 40 if ceps.size else np.zeros(0, dtype=bool)
    return ceps[1:, loud].mean(axis=1) if np.any(loud) else np.zeros(ceps.shape[0] - 1)


def timbre_distance(a: np.ndarray, b: np.ndarray, sr: int) -> float:
    """Euclidean distance between the mean timbre vectors (0: the same sound palette)."""
    return float(np.linalg.norm(timbre_vector(a, sr) - timbre_vector(b, sr)))


def bar_grid(
    duration_s: float, tempo_bpm: float, beats_per_bar: int, downbeat_s: float
) -> np.ndarray:
    """Bar boundaries (seconds) of a steady tempo through a known downbeat, covering the audio."""
    bar = beats_per_bar * 60.0 / tempo_bpm
    first = downbeat_s - bar * np.ceil(downbeat_s / bar)
    return np.arange(first, duration_s + bar, bar)


def high_band_onsets(audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """Spectral flux (log-compressed, as in `onset_strength`) of the bins at or above
    ONSET_BAND_HZ, one value per frame, and the frame rate."""
    hop = max(1, round(sr / FRAME_RATE))
    n_fft = 1 << int(np.ceil(np.log2(sr * 0.032)))  # as `onset_strength`'s frames
    mag = np.abs(stft(mono(audio), n_fft, hop))
    mag = mag[np.arange(mag.shape[0]) * sr / n_fft >= ONSET_BAND_HZ]
    if mag.size == 0 or not np.any(mag):
        return np.zeros(mag.shape[1] if mag.ndim == 2 else 0, dtype=np.float32), sr / hop
    mag = np.log1p(10.0 * mag / float(mag.max()))
    flux = np.maximum(0.0, np.diff(mag, axis=1, prepend=mag[:, :1])).mean(axis=0)
    return flux.astype(np.float32), sr / hop


def onset_pattern(audio: np.ndarray, sr: int, bars_s: np.ndarray, beats_per_bar: int) -> np.ndarray:
    """The rhythm template: the mean high-band onset strength in each sixteenth slot of the
    bar (beats_per_bar * STEPS_PER_BEAT values), each frame placed by its own bar's boundaries
    `bars_s` (seconds), so tempo and small drifts of the beat do not blur it."""
    env, rate = high_band_onsets(audio, sr)
    n = beats_per_bar * STEPS_PER_BEAT
    t = np.arange(len(env)) / rate
    bars_s = np.asarray(bars_s, dtype=float)
    k = np.searchsorted(bars_s, t, side="right") - 1
    inside = (k >= 0) & (k < len(bars_s) - 1)
    if len(bars_s) < 2 or not np.any(inside):
        return np.zeros(n)
    k, t, env = k[inside], t[inside], env[inside]
    phase = (t - bars_s[k]) / (bars_s[k + 1] - bars_s[k])
    slot = np.minimum((phase * n).astype(int), n - 1)
    counts = np.bincount(slot, minlength=n)
    return np.bincount(slot, weights=env, minlength=n) / np.maximum(counts, 1)


def rhythm_similarity(
    a: np.ndarray,
    bars_a: np.ndarray,
    b: np.ndarray,
    bars_b: np.ndarray,
    sr: int,
    beats_per_bar: int,
) -> float:
    """Correlation (-1..1) of the two pieces' rhythm templates, each on its own bar grid (the
    same meter for both: a reference in another meter is cut into bars of the output's)."""
    return _corr(
        onset_pattern(a, sr, bars_a, beats_per_bar), onset_pattern(b, sr, bars_b, beats_per_bar)
    )


@dataclass(frozen=True)
class RoleCheck:
    """One parameter role's measure against every reference; `margin` is how much the intended
    one beats the best other (positive: it wins)."""

    role: str
    measure: str
    values: dict[str, float]
    intended: str
    higher_is_closer: bool

    @property
    def margin(self) -> float:
        mine = self.values[self.intended]
        others = [v for k, v in self.values.items() if k != self.intended]
        if self.higher_is_closer:
            return mine - max(others)
        return min(others) - mine


def role_checks(
    output: np.ndarray,
    accompaniment: np.ndarray,
    refs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    sr: int,
    bars_s: np.ndarray,
    beats_per_bar: int,
    melody: str,
    timbre: str,
    rhythm: str,
) -> list[RoleCheck]:
    """Melody by chroma correlation of the whole output, timbre by the distance of its pitched
    layers (`accompaniment`: the output without the drums), rhythm by correlation of the rhythm
    templates of the output and of each reference's mix.

    `refs` maps a reference's name to (its mix, its pitched stems summed, its bar boundaries in
    seconds in the output's meter); `bars_s` are the output's, `beats_per_bar` its meter.
    """
    return [
        RoleCheck(
            "melody",
            "chroma correlation",
            {k: chroma_similarity(output, mix, sr) for k, (mix, _, _) in refs.items()},
            melody,
            True,
        ),
        RoleCheck(
            "timbre",
            "timbre distance",
            {k: timbre_distance(accompaniment, pitched, sr) for k, (_, pitched, _) in refs.items()},
            timbre,
            False,
        ),
        RoleCheck(
            "rhythm",
            "onset-pattern correlation",
            {
                k: rhythm_similarity(output, bars_s, mix, bars, sr, beats_per_bar)
                for k, (mix, _, bars) in refs.items()
            },
            rhythm,
            True,
        ),
    ]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / denom) if denom > 0 else 0.0


def parameter_level_checks(
    engine: ConcatEngine,
    request: GenerationRequest,
    conditioning: Conditioning,
) -> tuple[np.ndarray, list[RoleCheck]]:
    """Generate a melody / timbre / rhythm request and measure each role against every reference.

    The output without its drums is the same plan rendered again with the rhythm layer silenced
    (levels do not depend on the audio, so the other layers are unchanged sample for sample).
    """
    roles = {
        ref.role: mat for ref, mat in zip(request.references, conditioning.materials, strict=True)
    }
    plan = engine.plan(request, conditioning, no_progress, CancelToken())
    output = engine.render(plan, request, conditioning, no_progress, CancelToken()).audio
    for layer in plan.layers:
        if layer.name == "rhythm":
            for src in layer.sources:
                src.audio = np.zeros_like(src.audio)
    accompaniment = engine.render(plan, request, conditioning, no_progress, CancelToken()).audio
    sr = conditioning.sample_rate
    # Every reference is cut into bars of the output's meter once, whichever layer it feeds.
    bars = {src.material.index: src.bars / sr for layer in plan.layers for src in layer.sources}
    refs = {}
    for mat in conditioning.materials:
        pitched = [mat.stems[n] for n in mat.stems if stem_role(mat, n) != "rhythm"]
        summed = np.sum(pitched, axis=0) if pitched else mat.mix
        refs[mat.song.id] = (mat.mix, summed, bars[mat.index])
    checks = role_checks(
        output,
        accompaniment,
        refs,
        sr,
        plan.bounds / sr,
        plan.beats_per_bar,
        roles[Role.MELODY].song.id,
        roles[Role.TIMBRE].song.id,
        roles[Role.RHYTHM].song.id,
    )
    return output, checks
