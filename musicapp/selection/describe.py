"""What a song sounds like, in numbers and in words: the weight-free side of mediated selection.

``describe_audio`` measures a song's audio (tempo, mode, energy, brightness, density, and a timbre
and harmony summary); ``feature_vector`` turns that into the audio embedding "more like this"
uses when CLAP is absent; ``description`` writes the sentence the embedded text model (MiniLM)
embeds for prompts: the catalogue's metadata (genre, subgenre, instruments, moods) and the
measured descriptors in words, so a prompt such as "slow, dark and sparse" can find a song whose
metadata never says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicapp.core import Song

FEATURES_VERSION = 1  # bump when the measurements change: cached descriptors are recomputed
EXCERPT_S = 60.0  # the middle minute is analysed: enough for tempo and timbre, fast at import

# Krumhansl-Kessler key profiles (major, minor), C = 0: the standard published figures.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class Descriptors:
    """Measured from a song's audio; `features` is the raw vector behind the audio embedding."""

    tempo_bpm: float
    minor: float  # 0 = clearly major, 1 = clearly minor (key-profile correlation)
    loudness_db: float  # RMS level in dBFS
    brightness_hz: float  # mean spectral centroid
    density: float  # onsets per second
    features: np.ndarray  # float32, FEATURE_DIM

    @property
    def mode(self) -> str:
        return "minor" if self.minor >= 0.5 else "major"


def _mode_score(profile: np.ndarray) -> float:
    """How minor the average chroma sounds: the best minor key's correlation against the best
    major key's, mapped to [0, 1]."""
    if not np.any(profile):
        return 0.5
    major = max(np.corrcoef(profile, np.roll(_MAJOR, k))[0, 1] for k in range(12))
    minor = max(np.corrcoef(profile, np.roll(_MINOR, k))[0, 1] for k in range(12))
    return float(np.clip(0.5 + (minor - major) * 2.5, 0.0, 1.0))


def describe_audio(
    audio: np.ndarray, sr: int, tempo_hint: float | None = None, key: str = ""
) -> Descriptors:
    """Measure a song (float32 (channels, samples) at its own rate; the middle EXCERPT_S)."""
    from musicapp.audio.analysis import spectral
    from musicapp.audio.beats import estimate_tempo, mono, onset_strength
    from musicapp.audio.spectrum import stft

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    n = audio.shape[1]
    span = int(EXCERPT_S * sr)
    if n > span:
        start = (n - span) // 2
        audio = audio[:, start : start + span]
    env, rate = onset_strength(audio, sr)
    tempo = float(tempo_hint) if tempo_hint else float(estimate_tempo(env, rate))
    if not np.isfinite(tempo) or tempo <= 0:
        tempo = 0.0  # unknown (too short to tell): left out of the description
    # Onsets: prominent peaks of the onset envelope, at most one per 70 ms.
    if env.size > 2:
        from scipy.signal import find_peaks

        peaks, _ = find_peaks(
            env / (env.max() + 1e-9), prominence=0.15, distance=max(1, int(0.07 * rate))
        )
        density = float(len(peaks)) / max(env.size / rate, 1e-6)
    else:
        density = 0.0
    spec = spectral(audio, sr)
    mfcc = spec.timbre
    profile = spec.chroma.mean(axis=1) if spec.chroma.size else np.zeros(12)
    if key.endswith("minor"):
        minor = 1.0
    elif key.endswith("major"):
        minor = 0.0
    else:
        minor = _mode_score(profile)
    x = mono(audio)
    level = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0
    loudness = 20 * np.log10(max(level, 1e-6))
    n_fft = 2048
    mag = np.abs(stft(x, n_fft, n_fft // 2)) if x.size >= n_fft else np.zeros((n_fft // 2 + 1, 1))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    power = mag.sum(axis=0)
    centroid = (freqs @ mag) / np.maximum(power, 1e-9)
    loud = power > power.max() * 1e-3 if power.size else power
    brightness = float(np.mean(centroid[loud])) if np.any(loud) else 0.0
    flatness = float(
        np.mean(np.exp(np.mean(np.log(mag + 1e-9), axis=0)) / (np.mean(mag, axis=0) + 1e-9))
    )
    # Key-invariant harmony: the magnitudes of the chroma profile's Fourier transform.
    harmony = np.abs(np.fft.rfft(profile))[1:7] / (np.abs(profile).sum() + 1e-9)
    features = np.concatenate(
        [
            mfcc.mean(axis=1) if mfcc.size else np.zeros(13),
            mfcc.std(axis=1) if mfcc.size else np.zeros(13),
            harmony,
            [
                np.log2(max(tempo, 1.0)),
                minor,
                loudness / 20.0,
                np.log2(max(brightness, 1.0)),
                np.log1p(density),
                flatness,
            ],
        ]
    ).astype(np.float32)
    return Descriptors(tempo, minor, loudness, brightness, density, np.nan_to_num(features))


FEATURE_DIM = 13 + 13 + 6 + 6


def standardise(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-feature mean and spread over the catalogue (rows of `features`), so that no
    feature (tempo in log2 BPM, loudness in dB/20) outweighs the others by its unit."""
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    return mean.astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32)


def feature_vector(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The weight-free audio embedding: z-scored features, L2-normalised."""
    z = (np.asarray(features, dtype=np.float32) - mean) / std
    norm = np.linalg.norm(z, axis=-1, keepdims=True)
    return (z / np.maximum(norm, 1e-9)).astype(np.float32)


def _tempo_words(bpm: float) -> str:
    for limit, words in ((60, "very slow"), (80, "slow"), (108, "moderate"), (132, "fast")):
        if bpm < limit:
            return words
    return "very fast"


def descriptor_words(d: Descriptors) -> str:
    """The descriptors as words a prompt might use."""
    tempo = f"{_tempo_words(d.tempo_bpm)} tempo ({d.tempo_bpm:.0f} BPM)" if d.tempo_bpm else ""
    mode = f"{d.mode} key"
    # Energy as a listener hears it: pace (tempo) and activity (onsets), then level.
    pace = (d.tempo_bpm - 90) / 30 if d.tempo_bpm else 0.0
    energy_index = pace + (d.density - 4) / 2.5 + (d.loudness_db + 16) / 6
    if energy_index < -0.8:
        energy = "calm, gentle, low energy"
    elif energy_index < 0.8:
        energy = "moderate energy"
    else:
        energy = "energetic, lively, driving"
    if d.brightness_hz < 1200:
        colour = "dark, warm, mellow sound"
    elif d.brightness_hz < 2400:
        colour = "balanced sound"
    else:
        colour = "bright, crisp sound"
    per_beat = d.density / max((d.tempo_bpm or 90.0) / 60, 0.5)
    if per_beat < 2.5:
        density = "sparse, spacious"
    elif per_beat < 4.0:
        density = "steady"
    else:
        density = "busy, many notes"
    return ", ".join(w for w in (tempo, mode, energy, colour, density) if w)


def _count_words(n: int) -> str:
    words = ("one", "two", "three", "four", "five", "six", "seven", "eight")
    return words[n - 1] if 0 < n <= len(words) else str(n)


def description(song: Song, descriptors: Descriptors | None, with_moods: bool = True) -> str:
    """The sentence the embedded text model embeds for a song. `with_moods=False` leaves the
    catalogue's mood tags out (how the category labels are measured against those tags)."""
    parts = [f"{song.genre}" + (f", {song.subgenre}" if song.subgenre else "")]
    if song.instruments:
        families = sorted({s.family for s in song.stems if s.family})
        inst = ", ".join(song.instruments)
        parts.append(f"played on {inst}" + (f" ({', '.join(families)})" if families else ""))
    if len(song.stems) > 1:
        names = ", ".join(s.name for s in song.stems)
        parts.append(f"{_count_words(len(song.stems))} parts: {names}")
    if with_moods and song.moods:
        parts.append("mood: " + ", ".join(song.moods))
    if song.country or song.era:
        parts.append(", ".join(x for x in (song.era, song.country, song.region) if x))
    if descriptors is not None:
        parts.append(descriptor_words(descriptors))
    elif song.tempo_bpm:
        parts.append(f"{_tempo_words(song.tempo_bpm)} tempo")
    return ". ".join(parts) + "."
