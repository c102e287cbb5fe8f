"""Reading, writing, resampling and channel conversion of audio arrays (channels, samples)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.core import InvalidInput


class AudioError(InvalidInput):
    """An audio file or array that cannot be used; the message names the file or what is wrong."""


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a sound file as float32 (channels, samples) and its sample rate."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file {path}: not found")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"audio file {path}: cannot be read ({exc})") from exc
    if data.shape[0] == 0:
        raise AudioError(f"audio file {path}: contains no samples")
    audio = np.ascontiguousarray(data.T)
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"audio file {path}: contains samples that are not finite numbers")
    return audio, int(sr)


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
    """Resample (channels, samples) audio with torchaudio's band-limited sinc interpolation."""
    if sr_from <= 0 or sr_to <= 0:
        raise AudioError(f"resample: sample rates must be positive, got {sr_from} -> {sr_to}")
    audio = as_audio(audio)
    if sr_from == sr_to:
        return audio.copy()
    import torch
    import torchaudio.functional as taf

    out = taf.resample(torch.from_numpy(np.ascontiguousarray(audio)), int(sr_from), int(sr_to))
    return out.numpy().astype(np.float32, copy=False)


def to_channels(audio: np.ndarray, n: int) -> np.ndarray:
    """Convert to n channels: mono is copied out, several to mono are averaged."""
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
    if have > n:
        return audio[:n]
    # More channels than we have: repeat the existing ones in order (stereo -> L R L R ...).
    return audio[np.arange(n) % have]
