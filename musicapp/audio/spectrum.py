"""Short-time spectra and mel filter banks in numpy, shared by analysis and stretching."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft as sfft


def frames(x: np.ndarray, n_fft: int, hop: int, center: bool = True) -> np.ndarray:
    """Overlapping frames of the last axis: (..., n_frames, n_fft). Centred frames pad n_fft/2."""
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        x = np.pad(x, pad)
    if x.shape[-1] < n_fft:
        pad = [(0, 0)] * (x.ndim - 1) + [(0, n_fft - x.shape[-1])]
        x = np.pad(x, pad)
    n_frames = 1 + (x.shape[-1] - n_fft) // hop
    windows = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=-1)
    return windows[..., ::hop, :][..., :n_frames, :]


@lru_cache(maxsize=16)
def hann(n: int) -> np.ndarray:
    """Periodic Hann window (the one that overlap-adds to a constant)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Complex STFT of the last axis, centred, Hann window: (..., n_fft//2+1, n_frames)."""
    fr = frames(np.asarray(x, dtype=np.float32), n_fft, hop) * hann(n_fft)
    return np.swapaxes(sfft.rfft(fr, axis=-1), -1, -2)


def istft(spec: np.ndarray, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Inverse of `stft` by weighted overlap-add, cut to `length` samples."""
    win = hann(n_fft)
    fr = sfft.irfft(np.swapaxes(spec, -1, -2), n=n_fft, axis=-1).astype(np.float32) * win
    n_frames = fr.shape[-2]
    total = n_fft + hop * (n_frames - 1)
    sq = win * win
    if n_fft % hop == 0:
        # Overlap-add in hop-sized blocks: frame i's q-th block lands on block i + q.
        r = n_fft // hop
        blocks = fr.reshape(fr.shape[:-1] + (r, hop))
        acc = np.zeros(fr.shape[:-2] + (n_frames + r - 1, hop), dtype=np.float32)
        wsum = np.zeros((n_frames + r - 1, hop), dtype=np.float32)
        for q in range(r):
            acc[..., q : q + n_frames, :] += blocks[..., q, :]
            wsum[q : q + n_frames] += sq[q * hop : (q + 1) * hop]
        out = acc.reshape(acc.shape[:-2] + (total,))
        norm = wsum.reshape(total)
    else:
        out = np.zeros(fr.shape[:-2] + (total,), dtype=np.float32)
        norm = np.zeros(total, dtype=np.float32)
        for i in range(n_frames):
            out[..., i * hop : i * hop + n_fft] += fr[..., i, :]
            norm[i * hop : i * hop + n_fft] += sq
    out /= np.maximum(norm, 1e-3)
    out = out[..., n_fft // 2 :]
    if out.shape[-1] < length:
        out = np.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])])
    return out[..., :length]


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=16)
def mel_filters(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular mel filter bank (n_mels, n_fft//2+1), each filter normalised to unit area."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(min(fmax, sr / 2)), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lower) / np.maximum(centre - lower, 1e-9)
    down = (upper - freqs[None, :]) / np.maximum(upper - centre, 1e-9)
    fb = np.maximum(0.0, np.minimum(up, down))
    # A filter narrower than one FFT bin would be empty; give it its nearest bin.
    for i in np.flatnonzero(fb.sum(axis=1) == 0):
        fb[i, np.argmin(np.abs(freqs - centre[i, 0]))] = 1.0
    return (fb / fb.sum(axis=1, keepdims=True)).astype(np.float32)


def power_to_db(power: np.ndarray, top_db: float = 80.0) -> np.ndarray:
    """10 log10 of power, floored `top_db` below the loudest value so silence stays bounded."""
    db = 10.0 * np.log10(np.maximum(power, 1e-10))
    return np.maximum(db, db.max() - top_db) if db.size else db
