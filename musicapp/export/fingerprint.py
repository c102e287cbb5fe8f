"""The audio fingerprint of an export: 16-bit PCM from float audio, and its sha256.

``audio_sha256`` hashes the decoded samples, never the file's bytes, so tags can change without
changing it and a WAV and a FLAC of the same audio agree. The hashed bytes are the ASCII line
``pcm_s16le:<channels>ch:<sample rate>Hz\\n`` followed by every sample as int16 little-endian,
channels interleaved (frame 0 channel 0, frame 0 channel 1, frame 1 channel 0, ...).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from musicapp.export.record import ExportError

MAX_CHANNELS = 8  # FLAC's limit; more than this is far likelier to be (samples, channels)
MAX_SAMPLE_RATE = 655_350  # FLAC's limit
_BLOCK_FRAMES = 1 << 16


def to_pcm16(audio: NDArray[np.floating[Any]], sample_rate: int) -> NDArray[np.int16]:
    """Float ``(channels, samples)`` audio as int16 ``(frames, channels)``, clipped to full scale."""
    if not isinstance(audio, np.ndarray):
        raise ExportError(f"audio must be a numpy array, got {type(audio).__name__}")
    if audio.ndim != 2:
        raise ExportError(f"audio must be shaped (channels, samples), got shape {audio.shape}")
    channels, frames = audio.shape
    if not 1 <= channels <= MAX_CHANNELS:
        raise ExportError(
            f"audio has {channels} channels (shape {audio.shape}); expected 1 to {MAX_CHANNELS} "
            f"— is it (samples, channels)? Pass audio.T"
        )
    if frames == 0:
        raise ExportError("audio is empty: no samples to export")
    if not np.issubdtype(audio.dtype, np.floating):
        raise ExportError(f"audio must be float samples in [-1, 1], got {audio.dtype}")
    if not np.isfinite(audio).all():
        raise ExportError("audio holds NaN or infinite samples")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise ExportError(f"sample rate must be a whole number, got {sample_rate!r}")
    if not 1 <= sample_rate <= MAX_SAMPLE_RATE:
        raise ExportError(f"sample rate {sample_rate} Hz is out of range")
    # Scaled by 32768 as soundfile scales int16 back to float, so a round trip is within half a
    # step; clipped here rather than left to libsndfile, which wraps out-of-range values around.
    scaled = np.clip(np.rint(audio.astype(np.float64) * 32768.0), -32768, 32767)
    return np.ascontiguousarray(scaled.T.astype("<i2"))


def audio_sha256(path: Path) -> str:
    """sha256 of the decoded 16-bit samples of ``path``, read in blocks; soundfile errors pass."""
    with sf.SoundFile(path) as f:
        digest = hashlib.sha256(f"pcm_s16le:{f.channels}ch:{f.samplerate}Hz\n".encode("ascii"))
        while True:
            block = f.read(_BLOCK_FRAMES, dtype="int16", always_2d=True)
            if not len(block):
                break
            digest.update(block.astype("<i2", copy=False).tobytes())
    return digest.hexdigest()
