"""Objective conditioning checks: how close an output is to a reference in pitch, timbre, rhythm."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicapp.audio.analysis import spectral
from musicapp.audio.beats import onset_strength
from musicapp.core import GenerationRequest, Role
from musicapp.generation.base import Conditioning
from musicapp.generation.concat import ConcatEngine
from musicapp.generation.layers import stem_role
from musicapp.jobs import CancelToken, no_progress

RHYTHM_LAG_BEATS = 8  # onset autocorrelation up to two bars of four
STEPS_PER_BEAT = 12  # resolves sixteenths and triplets


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


def onset_pattern(audio: np.ndarray, sr: int, tempo_bpm: float) -> np.ndarray:
    """The autocorrelation of the onset envelope at lags counted in beats (up to
    RHYTHM_LAG_BEATS, in steps of 1/STEPS_PER_BEAT): which spacings between hits recur, whatever
    the tempo and the phase of the bars."""
    env, rate = onset_strength(audio, sr)
    env = env - env.mean()
    spec = np.fft.rfft(env, 2 * len(env))
    ac = np.fft.irfft(spec * np.conj(spec))[: len(env)]
    ac = ac / max(float(ac[0]), 1e-12)
    lags = np.arange(1, RHYTHM_LAG_BEATS * STEPS_PER_BEAT + 1) / STEPS_PER_BEAT
    frames = lags * 60.0 / tempo_bpm * rate
    return np.interp(frames, np.arange(len(ac)), ac, right=0.0)


def rhythm_similarity(
    a: np.ndarray, tempo_a: float, b: np.ndarray, tempo_b: float, sr: int
) -> float:
    """Correlation (-1..1) of the two pieces' onset patterns, each on its own beat."""
    return _corr(onset_pattern(a, sr, tempo_a), onset_pattern(b, sr, tempo_b))


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
    refs: dict[str, tuple[np.ndarray, np.ndarray, float]],
    sr: int,
    tempo_bpm: float,
    melody: str,
    timbre: str,
    rhythm: str,
) -> list[RoleCheck]:
    """Melody by chroma correlation of the whole output, timbre by the distance of its pitched
    layers (`accompaniment`: the output without the drums), rhythm by onset-pattern correlation.

    `refs` maps a reference's name to (its mix, its pitched stems summed, its tempo folded
    towards the output's `tempo_bpm`).
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
                k: rhythm_similarity(output, tempo_bpm, mix, bpm, sr)
                for k, (mix, _, bpm) in refs.items()
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
    tempi = {src.material.index: src.tempo_bpm for layer in plan.layers for src in layer.sources}
    refs = {}
    for mat in conditioning.materials:
        pitched = [mat.stems[n] for n in mat.stems if stem_role(mat, n) != "rhythm"]
        summed = np.sum(pitched, axis=0) if pitched else mat.mix
        refs[mat.song.id] = (mat.mix, summed, tempi[mat.index])
    sr = conditioning.sample_rate
    checks = role_checks(
        output,
        accompaniment,
        refs,
        sr,
        plan.tempo_bpm,
        roles[Role.MELODY].song.id,
        roles[Role.TIMBRE].song.id,
        roles[Role.RHYTHM].song.id,
    )
    return output, checks
