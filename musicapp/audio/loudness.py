"""Loudness after ITU-R BS.1770-4 / EBU R128 (integrated, gated) through pyloudnorm.

Levels are matched by loudness rather than RMS or peak because that is what a listener hears as
"as loud as": a bright distorted guitar and a dark clean one at the same RMS do not sound equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import numpy as np

from musicapp.audio.io import AudioError, as_audio

K = TypeVar("K")
SILENCE_LUFS = -70.0  # EBU R128's absolute gate: anything quieter counts as silence
BLOCK_S = 0.4  # BS.1770 gating block; shorter audio is padded by repetition to one block
MAX_GAIN_DB = 40.0  # a level match never raises by more than this (near-silent input)


def integrated_lufs(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS of (channels, samples) audio; SILENCE_LUFS for silence.

    Mono counts as one channel (not duplicated), as BS.1770 says; more than five channels are
    folded to stereo first, since the standard weights only up to 5 channels."""
    import pyloudnorm

    audio = as_audio(audio, "loudness")
    if sr <= 0:
        raise AudioError(f"loudness: sample rate must be positive, got {sr}")
    if audio.shape[0] > 5:
        from musicapp.audio.io import to_channels

        audio = to_channels(audio, 2)
    block = int(np.ceil(BLOCK_S * sr))
    if audio.shape[1] < block:
        audio = np.tile(audio, (1, int(np.ceil(block / audio.shape[1]))))
    data = audio.T.astype(np.float64)
    if not np.any(data):
        return SILENCE_LUFS
    meter = pyloudnorm.Meter(sr)
    value = float(meter.integrated_loudness(data if data.shape[1] > 1 else data[:, 0]))
    if not np.isfinite(value) or value < SILENCE_LUFS:
        return SILENCE_LUFS
    return value


def channel_lufs(audio: np.ndarray, sr: int) -> list[float]:
    """Integrated loudness of each channel on its own, in LUFS (SILENCE_LUFS for a silent one)."""
    audio = as_audio(audio, "loudness")
    return [integrated_lufs(channel[None], sr) for channel in audio]


def is_silent(audio: np.ndarray, sr: int) -> bool:
    """True when every channel is below SILENCE_LUFS on its own.

    Each channel is measured by itself because a mix can cancel what the channels hold: stereo
    with one side's polarity inverted (R = -L, a miswired cable or a flipped mic) sums to
    nothing in mono, yet both speakers play it at full level."""
    return all(level <= SILENCE_LUFS for level in channel_lufs(audio, sr))


def aligned_mono(audio: np.ndarray) -> np.ndarray:
    """A mono mix (float64) that does not cancel: channels whose polarity is opposite to the
    loudest one's (negative correlation) are flipped before averaging.

    For channels that agree in polarity (nearly all recordings) this is the plain mean, so an
    analysis made on it is unchanged; phase-inverted stereo gives its left channel instead of
    silence."""
    audio = as_audio(audio, "mono mix").astype(np.float64)
    if audio.shape[0] == 1:
        return audio[0]
    ref = audio[int(np.argmax(np.einsum("ij,ij->i", audio, audio)))]
    signs = np.where(audio @ ref < 0, -1.0, 1.0)
    return signs @ audio / audio.shape[0]


def gain_to_lufs(audio: np.ndarray, sr: int, target_lufs: float) -> float:
    """The linear gain that brings `audio` to `target_lufs` (1.0 for silence), capped at
    +MAX_GAIN_DB so near-silence is not blown up into noise."""
    now = integrated_lufs(audio, sr)
    if now <= SILENCE_LUFS:
        return 1.0
    return float(10 ** (min(target_lufs - now, MAX_GAIN_DB) / 20))


def normalise_lufs(audio: np.ndarray, sr: int, target_lufs: float) -> np.ndarray:
    """`audio` scaled to `target_lufs` integrated loudness (not limited: check the peak)."""
    audio = as_audio(audio, "loudness")
    return (audio * np.float32(gain_to_lufs(audio, sr, target_lufs))).astype(np.float32)


def true_peak_dbtp(audio: np.ndarray, sr: int) -> float:
    """The true peak (BS.1770-4 Annex 2: the sample peak of 4× oversampled audio, 2× from
    96 kHz up) in dBTP; -inf for silence."""
    from scipy.signal import resample_poly

    audio = as_audio(audio, "true peak").astype(np.float64)
    if not np.any(audio):
        return float("-inf")
    factor = 4 if sr < 96000 else 2
    # One channel at a time: scipy filters a 1-D array several times faster than along axis 1.
    peak = float(np.max(np.abs(audio)))
    for channel in audio:
        peak = max(peak, float(np.max(np.abs(resample_poly(channel, factor, 1)))))
    return float(20 * np.log10(peak))


def matched_gains(levels: Mapping[K, float]) -> dict[K, float]:
    """The gain for each of several sounds, by their integrated loudness (LUFS), that plays them
    all as loud as the quietest, so an A/B compares the sound, not the level (the louder always
    seems better). Never above 1: nothing is raised, nothing clips. A silent one keeps 1."""
    heard = [v for v in levels.values() if v > SILENCE_LUFS]
    quietest = min(heard) if heard else SILENCE_LUFS
    return {
        k: 1.0 if v <= SILENCE_LUFS else float(10 ** (min(0.0, quietest - v) / 20))
        for k, v in levels.items()
    }


MOMENTARY_S = 0.4  # EBU R128 momentary loudness: a 400 ms window, ungated
SHORT_TERM_S = 3.0  # and short-term: 3 s


class LoudnessTrack:
    """Momentary and short-term loudness (EBU Tech 3341) of audio at any moment, for a meter
    that follows playback: the K-weighted power of each channel is summed once, so each reading
    is two look-ups, not a filter run. Channels weigh 1 each (mono, stereo), as in BS.1770."""

    def __init__(self, audio: np.ndarray, sr: int) -> None:
        from pyloudnorm.iirfilter import IIRfilter

        audio = as_audio(audio, "loudness").astype(np.float64)
        if sr <= 0:
            raise AudioError(f"loudness: sample rate must be positive, got {sr}")
        if audio.shape[0] > 5:
            from musicapp.audio.io import to_channels

            audio = to_channels(audio, 2).astype(np.float64)
        # BS.1770's K-weighting: a high shelf (+4 dB above ~1.5 kHz), then a high pass at 38 Hz,
        # with the stage parameters pyloudnorm's own meter uses.
        shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sr, "high_shelf")
        high_pass = IIRfilter(0.0, 0.5, 38.0, sr, "high_pass")
        weighted = np.stack([high_pass.apply_filter(shelf.apply_filter(c)) for c in audio])
        power = np.sum(weighted**2, axis=0)  # channel weights 1
        self._cumulative = np.concatenate([[0.0], np.cumsum(power)])
        self.sr = sr

    def at(self, seconds: float, window_s: float = MOMENTARY_S) -> float:
        """Loudness in LUFS of the ``window_s`` before ``seconds`` (SILENCE_LUFS when silent
        or before the audio starts)."""
        end = int(min(max(seconds, 0.0) * self.sr, len(self._cumulative) - 1))
        start = max(0, end - int(round(window_s * self.sr)))
        if end <= start:
            return SILENCE_LUFS
        mean = (self._cumulative[end] - self._cumulative[start]) / (end - start)
        if mean <= 0:
            return SILENCE_LUFS
        return max(SILENCE_LUFS, float(-0.691 + 10 * np.log10(mean)))
