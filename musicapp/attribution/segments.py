"""Segment embeddings for stylistic and structural likeness, and the influence decomposition.

The embedded default (no weights): per segment, the selection's audio descriptors measured
over a window around it: the timbre (MFCC-like means and spreads) and a key-invariant harmony
(the magnitudes of the chroma profile's Fourier transform, which a transposition leaves
unchanged, as the app transposes references). CLAP's audio embedding replaces them when its
checked weights are here (``ClapSegments``).

Decomposition: a segment's vector is written as a non-negative weighted sum of its candidate
catalogue segments' vectors (non-negative least squares); each candidate's weight, summed per
song and scaled by how much of the segment the sum explains, is that song's influence there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls

SEGMENT_S = 1.0  # the audit's grid: one segment a second
WINDOW_S = 4.0  # the window a segment's embedding is measured over (centred on it)
HOP_S = 2.0  # catalogue segments: a window every HOP_S seconds
FEATURE_DIM = 32


class SegmentEmbedder(Protocol):
    name: str
    dim: int

    def embed(
        self, audio: NDArray[np.floating], sample_rate: int, centres: Sequence[float]
    ) -> NDArray[np.float32]:
        """Raw vectors (len(centres), dim) of windows centred on the given times (s)."""
        ...


class FeatureSegments:
    """The weight-free embedding (see the module's docstring)."""

    name = "audio features (timbre + key-invariant harmony)"
    dim = FEATURE_DIM

    def embed(
        self, audio: NDArray[np.floating], sample_rate: int, centres: Sequence[float]
    ) -> NDArray[np.float32]:
        from musicapp.audio.analysis import spectral

        spec = spectral(np.asarray(audio, np.float32), sample_rate)
        n = spec.timbre.shape[1]
        out = np.zeros((len(centres), FEATURE_DIM), np.float32)
        half = WINDOW_S / 2
        for i, c in enumerate(centres):
            a = max(0, int((c - half) * spec.rate))
            b = min(n, max(a + 1, int((c + half) * spec.rate)))
            if b <= a:
                continue
            mf = spec.timbre[:, a:b]
            profile = spec.chroma[:, a:b].mean(axis=1)
            harmony = np.abs(np.fft.rfft(profile))[1:7] / (np.abs(profile).sum() + 1e-9)
            out[i] = np.concatenate([mf.mean(axis=1), mf.std(axis=1), harmony])
        return np.nan_to_num(out)


class ClapSegments:
    """CLAP's audio embedding of each window (10 s windows would blur a 1 s grid, so CLAP sees
    WINDOW_S seconds, repeat-padded as its own windows are)."""

    def __init__(self, clap: object) -> None:
        self._clap = clap
        self.name = "CLAP audio embedding"
        probe = self._embed_one(np.zeros((1, 48_000), np.float32), 48_000)
        self.dim = int(probe.size)

    def _embed_one(self, audio: NDArray[np.floating], sample_rate: int) -> NDArray[np.float32]:
        return np.asarray(self._clap.embed_audio(audio, sample_rate), np.float32).ravel()  # type: ignore[attr-defined]

    def embed(
        self, audio: NDArray[np.floating], sample_rate: int, centres: Sequence[float]
    ) -> NDArray[np.float32]:
        x = np.asarray(audio, np.float32)
        x = x[None, :] if x.ndim == 1 else x
        half = int(WINDOW_S / 2 * sample_rate)
        rows = []
        for c in centres:
            mid = int(c * sample_rate)
            piece = x[:, max(0, mid - half) : mid + half]
            rows.append(self._embed_one(piece if piece.size else x[:, :1], sample_rate))
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)


def windows(duration_s: float, hop_s: float = HOP_S) -> list[float]:
    """Centres of the catalogue's windows over a song."""
    if duration_s <= WINDOW_S:
        return [duration_s / 2]
    return [float(c) for c in np.arange(WINDOW_S / 2, duration_s - WINDOW_S / 2 + 1e-6, hop_s)]


def grid(duration_s: float) -> list[tuple[float, float]]:
    """The audit's segments: one a second (the last may be shorter)."""
    n = max(1, int(np.ceil(duration_s / SEGMENT_S - 1e-9)))
    return [(i * SEGMENT_S, min(duration_s, (i + 1) * SEGMENT_S)) for i in range(n)]


def standardise(
    raw: NDArray[np.float32], mean: NDArray[np.float32], std: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Z-scored by the catalogue's spread, then unit length (cosine = inner product)."""
    z = (raw - mean) / std
    return (z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-9)).astype(np.float32)


def decompose(
    target: NDArray[np.float32], candidates: NDArray[np.float32]
) -> tuple[NDArray[np.float64], float]:
    """Non-negative weights w (one per candidate row) minimising |target - w @ candidates|, and
    the fraction of the target's energy the sum explains (0..1)."""
    if candidates.size == 0:
        return np.zeros(0), 0.0
    w, residual = nnls(candidates.astype(np.float64).T, target.astype(np.float64), maxiter=200)
    energy = float(np.dot(target, target)) or 1.0
    explained = max(0.0, 1.0 - residual**2 / energy)
    return w, explained
