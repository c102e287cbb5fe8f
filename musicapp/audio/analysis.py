"""Music analysis: tempo, beats and bars (from beats.py), chroma, energy and timbre per bar."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sfft

from musicapp.audio.beats import (
    beat_accents,
    downbeat_phase,
    estimate_meter,
    estimate_tempo,
    fold_beats,
    group_bars,
    mono,
    onset_strength,
    track_beats,
)
from musicapp.audio.io import as_audio
from musicapp.audio.spectrum import mel_filters, power_to_db, stft

N_MELS = 40
CHROMA_FMIN, CHROMA_FMAX = 80.0, 5000.0


@dataclass(frozen=True)
class Analysis:
    """Tempo, beats, meter and bars (seconds) of a piece of audio, and its spectral frames."""

    tempo_bpm: float
    beats_s: np.ndarray
    downbeat: int  # index in beats_s of a beat that starts a bar
    beats_per_bar: int
    bars_s: np.ndarray  # bar boundaries in its own meter: bar i is [bars_s[i], bars_s[i+1])
    duration_s: float
    from_hint: bool
    spectral: Spectral

    @property
    def n_bars(self) -> int:
        return max(0, len(self.bars_s) - 1)

    @property
    def pitch_profile(self) -> np.ndarray:
        """The average chroma: a fingerprint of the key."""
        c = self.spectral.chroma
        return c.mean(axis=1) if c.size else np.zeros(12)

    def bars(self, beats_per_bar: int, factor: float = 1.0) -> np.ndarray:
        """Bar boundaries with another meter, or at `factor` (2 or 1/2) times the tempo."""
        beats, downbeat = fold_beats(self.beats_s, self.downbeat, factor)
        beat_s = 60.0 / (self.tempo_bpm * factor)
        return group_bars(beats, downbeat, beats_per_bar, beat_s, self.duration_s)


def analyse(
    audio: np.ndarray,
    sr: int,
    tempo_hint: float | None = None,
    beats_per_bar: int | None = None,
    downbeat_s: float | None = None,
) -> Analysis:
    """Tempo, beats, meter, bars, chroma and timbre. What the catalogue knows is trusted over
    estimates: the tempo, the beats per bar, and the time of a downbeat."""
    audio = as_audio(audio)
    duration = audio.shape[1] / sr
    env, rate = onset_strength(audio, sr)
    tempo = float(tempo_hint) if tempo_hint else estimate_tempo(env, rate)
    beats = track_beats(env, rate, tempo)
    if tempo_hint is None and len(beats) >= 8:
        # The tracked beats pin the tempo down more finely than the autocorrelation lag.
        slope = np.polyfit(np.arange(len(beats)), beats, 1)[0]
        fitted = 60.0 / slope if slope > 0 else tempo
        if abs(fitted / tempo - 1) < 0.06:
            tempo = float(fitted)
    if len(beats) < 8:
        # Too little rhythm to track (a pad, a short excerpt): lay a plain grid from the start.
        beats = np.arange(0.0, duration, 60.0 / tempo)
    frames_ = spectral(audio, sr)
    accents = beat_accents(audio, sr, beats, env, rate, frames_.chroma, frames_.rate)
    meter = beats_per_bar or estimate_meter(accents)
    if downbeat_s is not None and len(beats):
        downbeat = int(np.argmin(np.abs(beats - downbeat_s))) % meter
    else:
        downbeat = downbeat_phase(accents, meter)
    return Analysis(
        tempo_bpm=tempo,
        beats_s=np.asarray(beats),
        downbeat=downbeat,
        beats_per_bar=meter,
        bars_s=group_bars(beats, downbeat, meter, 60.0 / tempo, duration),
        duration_s=duration,
        from_hint=tempo_hint is not None,
        spectral=frames_,
    )


@lru_cache(maxsize=8)
def _chroma_map(sr: int, n_fft: int) -> tuple[np.ndarray, slice]:
    """Bin-to-pitch-class matrix (12, bins in band) and the band of bins it covers."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = np.flatnonzero((freqs >= CHROMA_FMIN) & (freqs <= CHROMA_FMAX))
    fmap = np.zeros((12, len(band)), dtype=np.float32)
    pc = (np.round(12 * np.log2(freqs[band] / 440.0)).astype(int) + 9) % 12  # 0 = C
    fmap[pc, np.arange(len(band))] = 1.0
    return fmap, slice(int(band[0]), int(band[-1]) + 1)


@dataclass(frozen=True)
class Spectral:
    """Chroma and timbre frames of a piece of audio, both from one short-time spectrum."""

    chroma: np.ndarray  # (12, frames) pitch-class energy, C=0, unit length (zero in silence)
    timbre: np.ndarray  # (n_coeffs, frames) cepstrum of the log-mel spectrum (MFCC-like)
    rate: float  # frames per second


def spectral(audio: np.ndarray, sr: int, n_coeffs: int = 13) -> Spectral:
    """Chroma and an MFCC-like timbre descriptor per frame (~8 Hz bins resolve semitones from
    ~130 Hz; the hop of 32 ms is plenty for values that are averaged per beat or bar)."""
    # The same window in seconds at every rate (a power of two would be 128 ms at 32 kHz but
    # 186 ms at 44.1 kHz, and the chroma and timbre of a bar would depend on the rate).
    n_fft = sfft.next_fast_len(int(round(sr * 0.128)), real=True)
    hop = n_fft // 4
    mag = np.abs(stft(mono(audio), n_fft, hop))
    fmap, band = _chroma_map(sr, n_fft)
    c = fmap @ mag[band]
    norm = np.linalg.norm(c, axis=0)
    # Frames far below the loudest are silence; leave them near zero instead of amplifying noise.
    floor = max(float(norm.max()) * 1e-3, 1e-9) if norm.size else 1e-9
    fmax = min(8000.0, sr / 2)
    top = int(np.ceil(fmax * n_fft / sr)) + 1
    mel = mel_filters(sr, n_fft, N_MELS, 30.0, fmax)[:, :top] @ (mag[:top] ** 2)
    ceps = sfft.dct(power_to_db(mel), type=2, norm="ortho", axis=0)[:n_coeffs]
    return Spectral(
        chroma=(c / np.maximum(norm, floor)).astype(np.float32),
        timbre=ceps.astype(np.float32),
        rate=sr / hop,
    )


def chroma(audio: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """12-bin pitch-class energy (C=0) per frame, each frame scaled to unit length, and the rate."""
    s = spectral(audio, sr)
    return s.chroma, s.rate


def timbre(audio: np.ndarray, sr: int, n_coeffs: int = 13) -> tuple[np.ndarray, float]:
    """Cepstral coefficients of the log-mel spectrum (MFCC-like, (n_coeffs, frames)), and rate."""
    s = spectral(audio, sr, n_coeffs)
    return s.timbre, s.rate


def rms(audio: np.ndarray) -> float:
    """Root-mean-square level over all channels and samples."""
    a = np.asarray(audio, dtype=np.float64)
    return float(np.sqrt(np.mean(a * a))) if a.size else 0.0


@dataclass(frozen=True)
class BarFeatures:
    """Per-bar descriptors used to choose bars that follow each other well."""

    chroma_start: np.ndarray  # (n_bars, 12): the first beat's harmony
    chroma_end: np.ndarray  # (n_bars, 12): the last beat's harmony
    chroma_mean: np.ndarray  # (n_bars, 12)
    rms: np.ndarray  # (n_bars,)
    timbre: np.ndarray  # (n_bars, n_coeffs - 1), the cepstrum without its level term

    def __len__(self) -> int:
        return len(self.rms)


def bar_features(
    audio: np.ndarray,
    sr: int,
    bars_s: np.ndarray,
    beats_per_bar: int = 4,
    frames: Spectral | None = None,
) -> BarFeatures:
    """Describe each bar [bars_s[i], bars_s[i+1]) of the audio (pass its `spectral` if known)."""
    audio = as_audio(audio)
    frames = frames or spectral(audio, sr)
    chroma_frames, ceps, crate = frames.chroma, frames.timbre, frames.rate
    n = max(0, len(bars_s) - 1)
    cs, ce, cm = np.zeros((n, 12)), np.zeros((n, 12)), np.zeros((n, 12))
    levels, tim = np.zeros(n), np.zeros((n, ceps.shape[0] - 1))

    def span(rate: float, a: float, b: float, total: int) -> slice:
        lo = min(int(np.floor(a * rate)), total - 1)
        return slice(max(lo, 0), max(int(np.ceil(b * rate)), lo + 1))

    for i in range(n):
        a, b = float(bars_s[i]), float(bars_s[i + 1])
        beat = (b - a) / beats_per_bar
        total = chroma_frames.shape[1]
        cs[i] = chroma_frames[:, span(crate, a, a + beat, total)].mean(axis=1)
        ce[i] = chroma_frames[:, span(crate, b - beat, b, total)].mean(axis=1)
        cm[i] = chroma_frames[:, span(crate, a, b, total)].mean(axis=1)
        tim[i] = ceps[1:, span(crate, a, b, total)].mean(axis=1)
        levels[i] = rms(audio[:, int(a * sr) : int(b * sr)])
    return BarFeatures(cs, ce, cm, levels, tim)


def key_shift(profile: np.ndarray, target: np.ndarray, max_shift: int = 6) -> int:
    """Semitones (-max_shift..max_shift) that move `profile`'s pitch classes onto `target`'s.

    Rotating whole pitch-class profiles also matches relative keys (A minor to C major: 0),
    which is what matters when bars of the two are heard one after the other.
    """
    p = profile - profile.mean()
    t = target - target.mean()
    if not np.any(p) or not np.any(t):
        return 0
    best, best_score = 0, float("-inf")
    norm = float(np.linalg.norm(p) * np.linalg.norm(t))
    for k in range(-max_shift, max_shift + 1):
        # A small cost per semitone: between near-equal fits, move the audio as little as possible.
        score = float(np.dot(np.roll(p, k), t)) / norm
        score -= 0.01 * abs(k)
        if score > best_score:
            best, best_score = k, score
    return best
