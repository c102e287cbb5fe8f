"""Measurements behind the test recordings' facts.json: levels, stereo, air, tone, silences.

scripts/render_test_recordings.py writes facts.json with these functions and
tests/unit/test_recordings_data.py measures the committed files again with them, so a number in
facts.json always means what these functions compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

# ISO 1/3-octave centres (base 10^0.1 rounded to 2^(1/3)) from 50 Hz to 16 kHz: the guitar's
# range and its amp's air, below the Nyquist frequency of every rate the app works at.
THIRD_OCTAVE_HZ = 1000.0 * 2.0 ** (np.arange(-13, 13) / 3)
SPECTRUM_RANGE_DB = 60.0
AIR_HZ = 16000.0  # 32 kHz working audio has nothing above this: studio-rate files do
SILENCE_S = 0.5  # digital silence longer than this inside a part is a fault unless by design
# Below half a 16-bit step a sample is written as 0: digital silence, not a quiet passage.
DIGITAL_ZERO = 0.5 / 32768
FLOOR_DB = -150.0  # what the dB measures return for no energy at all


def read(path: Path) -> tuple[np.ndarray, int]:
    """A sound file as float64 (channels, samples) and its sample rate."""
    data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return data.T, int(sr)


def _db(power: float) -> float:
    return float(10 * np.log10(power)) if power > 0 else FLOOR_DB


def rms_dbfs(audio: np.ndarray) -> list[float]:
    """RMS level of each channel in dBFS (a full-scale sine reads -3.01)."""
    return [_db(float(np.mean(ch**2))) for ch in audio]


def peak_dbfs(audio: np.ndarray) -> float:
    """The highest absolute sample over all channels, in dBFS."""
    return _db(float(np.max(np.abs(audio))) ** 2)


def lr_correlation(audio: np.ndarray) -> float:
    """Pearson correlation of left and right: 1.0 for dual mono, near 0 for unrelated sides."""
    if audio.shape[0] < 2:
        return 1.0
    left, right = audio[0] - audio[0].mean(), audio[1] - audio[1].mean()
    denom = float(np.sqrt(np.sum(left**2) * np.sum(right**2)))
    return float(np.sum(left * right) / denom) if denom > 0 else 1.0


def _power_spectrum(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies, power density per Hz averaged over the channels) of the whole signal.

    Channels are averaged as power, not summed as signals, so a hard-panned double does not
    comb-filter itself the way a mono downmix would."""
    spectrum = np.fft.rfft(audio, axis=-1)
    density = np.mean(np.abs(spectrum) ** 2, axis=0) / (sr * audio.shape[-1])
    return np.fft.rfftfreq(audio.shape[-1], 1.0 / sr), density


def energy_above_db(audio: np.ndarray, sr: int, hz: float = AIR_HZ) -> float:
    """Energy above `hz` relative to the total, in dB (cymbal air sits around -20 to -40)."""
    freqs, density = _power_spectrum(audio, sr)
    total = float(density.sum())
    return _db(float(density[freqs > hz].sum()) / total) if total > 0 else FLOOR_DB


def third_octave_db(audio: np.ndarray, sr: int) -> np.ndarray:
    """Mean power density in each THIRD_OCTAVE_HZ band, in dB: comparable across sample rates
    and lengths because it is per Hz and per second."""
    freqs, density = _power_spectrum(audio, sr)
    out = np.empty(len(THIRD_OCTAVE_HZ))
    for i, centre in enumerate(THIRD_OCTAVE_HZ):
        band = (freqs >= centre * 2 ** (-1 / 6)) & (freqs < centre * 2 ** (1 / 6))
        out[i] = _db(float(density[band].mean())) if band.any() else FLOOR_DB
    return out


def spectrum_distance_db(a_db: Sequence[float], b_db: Sequence[float]) -> float:
    """Tone distance of two band spectra: the RMS over bands of their dB difference once the
    mean difference (overall level) is taken out, so a louder copy of a tone is distance 0.

    Each spectrum is floored SPECTRUM_RANGE_DB under its loudest band first: a band that far
    down is inaudible under the rest and would otherwise count as much as the body of the tone."""
    a, b = (np.asarray(x, dtype=np.float64) for x in (a_db, b_db))
    a, b = (np.maximum(x, x.max() - SPECTRUM_RANGE_DB) for x in (a, b))
    diff = a - b
    return float(np.sqrt(np.mean((diff - diff.mean()) ** 2)))


def silent_runs(audio: np.ndarray, sr: int, min_s: float = SILENCE_S) -> list[tuple[float, float]]:
    """(start_s, end_s) of every stretch longer than `min_s` where all channels are digital
    silence (they would be written as 0 in 16-bit PCM)."""
    quiet = np.all(np.abs(audio) < DIGITAL_ZERO, axis=0).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet, [0]])))
    runs = edges.reshape(-1, 2)
    return [(s / sr, e / sr) for s, e in runs if (e - s) / sr > min_s]


def mix_against_stems(mix: np.ndarray, stems: Sequence[np.ndarray]) -> dict[str, float]:
    """How a mix differs from the plain sum of its stems.

    residual_db: what is left of the mix after the best single gain on the sum is taken away,
    relative to the mix (-inf for a mix that is a scaled sum; a real mix with its own pans, bus
    compression and EQ leaves a clear residual). balance_db: left minus right RMS level, of the
    mix and of the sum."""
    total = np.sum(stems, axis=0)
    gain = float(np.sum(mix * total) / np.sum(total**2))
    residual = float(np.sum((mix - gain * total) ** 2) / np.sum(mix**2))
    mix_l, mix_r = rms_dbfs(mix)
    sum_l, sum_r = rms_dbfs(total)
    return {
        "residual_db": round(_db(residual), 2),
        "sum_gain_db": round(_db(gain**2), 2),
        "mix_balance_db": round(mix_l - mix_r, 2),
        "sum_balance_db": round(sum_l - sum_r, 2),
    }


def file_facts(path: Path, rests_s: Sequence[tuple[float, float]] = ()) -> dict[str, Any]:
    """What facts.json says about one file; `rests_s` are the silences the part has by design."""
    audio, sr = read(path)
    return {
        "sample_rate": sr,
        "channels": int(audio.shape[0]),
        "frames": int(audio.shape[1]),
        "duration_s": round(audio.shape[1] / sr, 4),
        "peak_dbfs": round(peak_dbfs(audio), 2),
        "rms_dbfs": [round(v, 2) for v in rms_dbfs(audio)],
        "lr_correlation": round(lr_correlation(audio), 4),
        "energy_above_16k_db": round(energy_above_db(audio, sr), 2),
        "rests_s": [[round(s, 3), round(e, 3)] for s, e in rests_s],
        "third_octave_db": [round(float(v), 2) for v in third_octave_db(audio, sr)],
    }
