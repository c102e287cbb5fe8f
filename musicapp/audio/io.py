"""Reading, writing, resampling and channel conversion of audio arrays (channels, samples)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.core import InvalidInput

MIN_SAMPLE_RATE = 4000  # below this nothing musical survives; likely a corrupt header
MAX_SAMPLE_RATE = 384000
MAX_CHANNELS = 64
# A resampling ratio with a larger term would need a very long polyphase filter (and
# torchaudio's sinc resampler runs out of memory on such pairs): it is approximated instead.
MAX_POLY_TERM = 2000
# Kaiser beta for resample_poly: about 100 dB of stop-band rejection, so nothing audible folds
# back, for a slightly wider transition band than scipy's default (beta 5).
RESAMPLE_KAISER_BETA = 10.0
# 5.1 (L R C LFE Ls Rs) to stereo after ITU-R BS.775: centre and surrounds at -3 dB, LFE left
# out; scaled so a full-scale input cannot clip.
_DOWNMIX_51 = np.array(
    [[1.0, 0.0, 0.7071, 0.0, 0.7071, 0.0], [0.0, 1.0, 0.7071, 0.0, 0.0, 0.7071]]
) / (1.0 + 2 * 0.7071)


class AudioError(InvalidInput):
    """An audio file or array that cannot be used; the message names the file or what is wrong."""


@dataclass(frozen=True)
class AudioInfo:
    """What a sound file holds, read from its header without decoding the samples."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def audio_info(path: str | os.PathLike[str]) -> AudioInfo:
    """The header of a sound file, checked: exists, not empty, a format we decode, sane rate and
    channel count. Cheap for any length, so long files can be refused before they are decoded."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"audio file {path}: not found")
    if not path.is_file():
        raise AudioError(f"audio file {path}: is not a file")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path}: cannot be read (the file is empty, 0 bytes)")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError, ValueError) as exc:
        raise AudioError(
            f"audio file {path}: cannot be read (not a WAV, FLAC, MP3 or OGG file, or its "
            f"header is damaged: {exc})"
        ) from exc
    fmt = str(info.format)
    if fmt == "RAW":  # headerless: rate and layout would be guesses
        raise AudioError(f"audio file {path}: cannot be read (raw samples without a header)")
    sr, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"audio file {path}: sample rate {sr} Hz is outside "
            f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz (damaged header?)"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"audio file {path}: {channels} channels is not a usable channel count")
    if frames <= 0:
        raise AudioError(f"audio file {path}: contains no samples")
    return AudioInfo(path, sr, channels, frames, fmt, str(info.subtype))


def check_duration(info: AudioInfo, max_duration_s: float | None, what: str = "") -> None:
    """Refuse a file longer than `max_duration_s` (None: no limit) before it is decoded."""
    if max_duration_s is not None and info.duration_s > max_duration_s:
        purpose = f" for {what}" if what else ""
        raise AudioError(
            f"audio file {info.path}: lasts {_clock(info.duration_s)}, longer than the "
            f"{_clock(max_duration_s)} allowed{purpose}; cut it shorter or pick a range"
        )


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def read_audio(
    path: str | os.PathLike[str], max_duration_s: float | None = None
) -> tuple[np.ndarray, int]:
    """Read a sound file as float32 (channels, samples) and its sample rate.

    The header is checked first (`audio_info`), so a file over `max_duration_s` is refused
    without decoding it, and every failure is an AudioError naming the file."""
    info = audio_info(path)
    check_duration(info, max_duration_s)
    path = info.path
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise AudioError(f"audio file {path}: cannot be read ({exc})") from exc
    except MemoryError as exc:
        raise AudioError(
            f"audio file {path}: too large to decode into memory ({_clock(info.duration_s)}, "
            f"{info.channels} channels)"
        ) from exc
    if data.shape[0] == 0:
        raise AudioError(f"audio file {path}: contains no samples")
    audio = np.ascontiguousarray(data.T)
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"audio file {path}: contains samples that are not finite numbers")
    return audio, int(sr)


def load_audio(
    path: str | os.PathLike[str],
    sample_rate: int,
    channels: int = 2,
    max_duration_s: float | None = None,
) -> np.ndarray:
    """Read any readable file at `sample_rate` with `channels` channels: what an engine wants
    from the user's own audio whatever rate and layout it came in."""
    audio, sr = read_audio(path, max_duration_s=max_duration_s)
    return to_channels(resample(audio, sr, sample_rate), channels)


def write_wav(
    path: str | os.PathLike[str], audio: np.ndarray, sr: int, subtype: str = "PCM_16"
) -> Path:
    """Write (channels, samples) audio as WAV, atomically: a reader never sees half a file."""
    path = Path(path)
    audio = as_audio(audio, what=str(path))
    if sr <= 0:
        raise AudioError(f"audio file {path}: sample rate must be positive, got {sr}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file sits beside the target so os.replace never crosses file systems.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        sf.write(tmp, np.clip(audio, -1.0, 1.0).T, sr, subtype=subtype, format="WAV")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def as_audio(audio: np.ndarray, what: str = "audio") -> np.ndarray:
    """Check and return audio as float32 (channels, samples); a 1-D array is taken as mono."""
    arr = np.asarray(audio)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise AudioError(f"{what}: expected (channels, samples), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise AudioError(f"{what}: contains no samples")
    return arr.astype(np.float32, copy=False)


def resample(audio: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Resample (channels, samples) audio, band-limited, keeping pitch and duration.

    scipy's polyphase filter with a Kaiser window of about 100 dB rejection: no torch import,
    and nothing audible folds back at 8 kHz or 96 kHz. An odd rate pair whose exact ratio has
    huge terms (44101 -> 32000) uses the nearest ratio with terms up to MAX_POLY_TERM (pitch
    off by far less than a thousandth of a cent) rather than a filter millions of taps long;
    the length is always round(n * sr_to / sr_from)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    if sr_from <= 0 or sr_to <= 0:
        raise AudioError(f"resample: sample rates must be positive, got {sr_from} -> {sr_to}")
    audio = as_audio(audio)
    if sr_from == sr_to:
        return audio.copy()
    ratio = Fraction(int(sr_to), int(sr_from))
    if max(ratio.numerator, ratio.denominator) > MAX_POLY_TERM:
        ratio = ratio.limit_denominator(max(1, int(MAX_POLY_TERM / max(1.0, float(ratio)))))
    window = ("kaiser", RESAMPLE_KAISER_BETA)
    out = resample_poly(audio, ratio.numerator, ratio.denominator, axis=1, window=window)
    n = int(round(audio.shape[1] * sr_to / sr_from))
    if out.shape[1] < n:
        out = np.pad(out, ((0, 0), (0, n - out.shape[1])))
    return np.ascontiguousarray(out[:, :n], dtype=np.float32)


def to_channels(audio: np.ndarray, n: int) -> np.ndarray:
    """Convert to n channels: mono is copied out, several to mono are averaged; 5.1 to stereo
    follows ITU-R BS.775 (centre and surrounds at -3 dB, no LFE), other multichannel layouts
    to stereo average the even-numbered channels into left and the odd ones into right (files
    store L/R pairs), so no channel is silently dropped."""
    if n < 1:
        raise AudioError(f"to_channels: channel count must be at least 1, got {n}")
    audio = as_audio(audio)
    have = audio.shape[0]
    if have == n:
        return audio
    if n == 1:
        return audio.mean(axis=0, keepdims=True)
    if have == 1:
        return np.repeat(audio, n, axis=0)
    if n == 2 and have == 6:
        return (_DOWNMIX_51 @ audio).astype(np.float32)
    if n == 2 and have > 2:
        return np.stack([audio[0::2].mean(axis=0), audio[1::2].mean(axis=0)])
    if have > n:
        return audio[:n]
    # More channels than we have: repeat the existing ones in order (stereo -> L R L R ...).
    return audio[np.arange(n) % have]
