"""Damaged audio files a musician might hand over as their own, made by code for tests."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf


def good_wav(path: Path, seconds: float = 2.0, rate: int = 44100) -> bytes:
    """A stereo 16-bit WAV of a 440 Hz tone; returns its bytes."""
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(path, np.stack([tone, tone]).T, rate, subtype="PCM_16")
    return path.read_bytes()


def _with_field(data: bytes, chunk: bytes, offset: int, fmt: str, value: int) -> bytes:
    at = data.find(chunk) + 8 + offset
    out = bytearray(data)
    out[at : at + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(out)


def truncated_wav(path: Path) -> Path:
    """An interrupted copy: the header promises 2 s, the file holds a third of it."""
    data = good_wav(path)
    path.write_bytes(data[: len(data) // 3])
    return path


def huge_declared_wav(path: Path) -> Path:
    """A header claiming 2 GB of samples over a file of a few hundred bytes."""
    data = good_wav(path)
    at = data.find(b"data")
    path.write_bytes(_with_field(data, b"data", -4, "<I", 0x7FFFFFF0)[: at + 8 + 448])
    return path


def bad_bits_wav(path: Path, bits: int = 17) -> Path:
    """A WAV whose bits-per-sample field does not fit its frames (17 makes libsndfile read its
    16-bit data as 24-bit noise, a third shorter)."""
    data = good_wav(path)
    path.write_bytes(_with_field(data, b"fmt ", 14, "<H", bits))
    return path


def short_wav(path: Path, seconds: float = 0.5) -> Path:
    """A sound file too short to become a take."""
    good_wav(path, seconds)
    return path
