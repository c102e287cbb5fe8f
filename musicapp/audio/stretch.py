"""Time stretching without pitch change (phase vocoder) and pitch shifting by semitones."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from musicapp.audio.io import AudioError, as_audio
from musicapp.audio.spectrum import istft, stft

N_FFT = 2048  # 64 ms at 32 kHz: resolves low notes; phase locking keeps chords from smearing
HOP = N_FFT // 4
TRANSIENT_DB = 6.0  # a frame this much louder than the one before starts a new note or hit


def _nearest_peak(mag: np.ndarray) -> np.ndarray:
    """For every bin of every frame (bins, frames), the index of the nearest spectral peak."""
    bins = mag.shape[0]
    is_peak = np.zeros_like(mag, dtype=bool)
    is_peak[1:-1] = (mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:])
    idx = np.arange(bins, dtype=np.int32)[:, None]
    prev = np.maximum.accumulate(np.where(is_peak, idx, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(is_peak, idx, bins)[::-1], axis=0)[::-1]
    use_prev = (nxt >= bins) | ((prev >= 0) & (idx - prev <= nxt - idx))
    out = np.where(use_prev, prev, nxt)
    return np.where(out < 0, idx, np.where(out >= bins, idx, out))


def time_stretch(audio: np.ndarray, target_len: int, semitones: float = 0.0) -> np.ndarray:
    """Stretch (channels, samples) audio to exactly `target_len` samples, keeping its pitch
    (or moving it by `semitones`).

    A phase vocoder with identity phase locking (Laroche & Dolson 1999), which keeps the partials
    of one note together, and a phase reset at sudden onsets so drum hits stay sharp. A pitch
    change stretches by the frequency ratio more and resamples back.
    """
    audio = as_audio(audio)
    if target_len < 1:
        raise AudioError(f"time_stretch: target length must be at least 1 sample, got {target_len}")
    if abs(semitones) < 1e-6:
        return _vocode(audio, target_len)
    factor = 2.0 ** (semitones / 12.0)
    stretched = _vocode(audio, max(1, int(round(target_len * factor))))
    # A ratio of small integers keeps the polyphase filter short and is within ~2 cents.
    ratio = Fraction(1.0 / factor).limit_denominator(64)
    y = resample_poly(stretched, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)
    if y.shape[1] < target_len:
        y = np.pad(y, ((0, 0), (0, target_len - y.shape[1])))
    return y[:, :target_len]


def pitch_shift(audio: np.ndarray, semitones: float) -> np.ndarray:
    """Move the pitch by semitones, keeping the length."""
    audio = as_audio(audio)
    return time_stretch(audio, audio.shape[1], semitones)


def _vocode(audio: np.ndarray, target_len: int) -> np.ndarray:
    n = audio.shape[1]
    if target_len == n:
        return audio.copy()
    spec = stft(audio, N_FFT, HOP)  # (channels, bins, frames)
    n_in = spec.shape[-1]
    mag, phase = np.abs(spec), np.angle(spec)
    rate = n / target_len  # analysis frames per synthesis frame
    n_out = int(np.ceil(target_len / HOP)) + 1
    steps = np.arange(n_out) * rate
    lo = np.minimum(steps.astype(int), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = (steps - lo).astype(np.float32)[None, None, :]
    out_mag = (1 - frac) * mag[..., lo] + frac * mag[..., hi]
    peaks = _nearest_peak(out_mag.sum(axis=0))

    energy = (mag**2).sum(axis=(0, 1)) + 1e-12
    rise = np.zeros(n_in)
    rise[1:] = 10 * np.log10(energy[1:] / energy[:-1])
    onset = (rise > TRANSIENT_DB) & (energy > 1e-4 * energy.max())

    bins = spec.shape[1]
    omega = ((2 * np.pi * HOP / N_FFT) * np.arange(bins)[:, None]).astype(np.float32)
    delta = phase[..., hi] - phase[..., lo] - omega
    delta -= 2 * np.pi * np.round(delta / (2 * np.pi))
    # Synthesis phase = phase at the last reset + the advances since (a cumulative sum, so the
    # whole thing is vectorised). A reset happens at frame 0 and where a new attack is reached.
    near = np.where(frac[0, 0] < 0.5, lo, hi)
    reset = np.zeros(n_out, dtype=bool)
    reset[0] = True
    reset[1:] = onset[near[1:]] & (near[1:] != near[:-1])
    advance = np.zeros_like(out_mag)
    advance[..., 1:] = np.cumsum(omega + delta[..., :-1], axis=-1)
    last = np.maximum.accumulate(np.where(reset, np.arange(n_out), 0))
    acc = phase[..., near[last]] + advance - advance[..., last]
    # Identity phase locking: each bin keeps its analysis phase offset from its nearest peak.
    ph_in = phase[..., near]
    flat = (peaks * n_out + np.arange(n_out)[None, :]).ravel()

    def at_peaks(a: np.ndarray) -> np.ndarray:
        return np.take(a.reshape(a.shape[0], -1), flat, axis=1).reshape(a.shape)

    locked = at_peaks(acc) + ph_in - at_peaks(ph_in)
    out = np.empty(locked.shape, dtype=np.complex64)
    # cos and sin separately: numpy's complex exp is an order of magnitude slower.
    out.real = out_mag * np.cos(locked)
    out.imag = out_mag * np.sin(locked)
    return istft(out, N_FFT, HOP, target_len)
