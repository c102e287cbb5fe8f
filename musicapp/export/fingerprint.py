"""Audio fingerprints: float audio quantised to PCM, and the sha256 digests that identify it.

Every PCM digest hashes the decoded samples, never the file's bytes, so tags can change and a WAV
and a FLAC of the same samples agree. The hashed bytes are an ASCII line
``pcm_<format>:<channels>ch:<sample rate>Hz\\n`` and then every sample, channels interleaved
(frame 0 channel 0, frame 0 channel 1, frame 1 channel 0, ...), in that format:

- ``s16le``: signed 16-bit little-endian, 2 bytes a sample.
- ``s24le``: signed 24-bit little-endian, 3 bytes a sample (the bytes of a 24-bit WAV's data).
- ``s32le``: signed 32-bit, 4 bytes; ``f32le`` / ``f64le``: IEEE floats, 4 / 8 bytes.

``audio_sha256`` (the one digest of the first exports, kept as it was) is the ``s16le`` digest of
the file read as 16-bit by libsndfile: a 16-bit file's own samples; for a deeper file its
samples with the low bits dropped (``v >> 8`` for 24-bit), which is exactly what libsndfile,
ffmpeg and soundfile write when they convert 24-bit audio to 16-bit without dither.
``Digests.exact`` holds, per format, the digest of the samples at every depth they are exactly
(a 24-bit file whose low 8 bits are all zero is 16-bit audio too; a float file of 24-bit values
is 24-bit audio), so a file converted to another container or a deeper format is still found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from musicapp.export.record import ExportError

MAX_CHANNELS = 8  # FLAC's limit; more than this is far likelier to be (samples, channels)
MAX_SAMPLE_RATE = 655_350  # FLAC's limit
BITS = (16, 24)  # the depths an export is written at
_BLOCK_FRAMES = 1 << 16
_SUBTYPES = {16: "PCM_16", 24: "PCM_24"}
# Native formats by libsndfile subtype; anything else (Vorbis, MP3, 8-bit, µ-law) is decoded to
# float and hashed only at the depths its samples are exactly.
_NATIVE = {"PCM_16": "s16le", "PCM_24": "s24le", "PCM_32": "s32le", "FLOAT": "f32le"}
_NATIVE |= {"DOUBLE": "f64le"}
_READ_DTYPE = {"s16le": "int16", "s24le": "int32", "s32le": "int32", "f32le": "float32"}
_READ_DTYPE |= {"f64le": "float64"}
_FLOATS = {"f32le": "<f4", "f64le": "<f8"}


def pcm_format(bits: int) -> str:
    """The digest format of an export at ``bits`` ("s16le" or "s24le")."""
    return f"s{bits}le"


def check_audio(audio: NDArray[np.floating[Any]], sample_rate: int) -> None:
    """ExportError unless ``audio`` is finite float ``(channels, samples)`` at a usable rate."""
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


def _quantise(audio: NDArray[np.floating[Any]], bits: int) -> NDArray[np.int32]:
    # Scaled by 2^(bits-1) as soundfile scales integers back to float, so a round trip is within
    # half a step; clipped here rather than left to libsndfile, which wraps out-of-range values.
    full = float(1 << (bits - 1))
    scaled = np.clip(np.rint(audio.astype(np.float64) * full), -full, full - 1)
    return np.ascontiguousarray(scaled.T.astype(np.int32))


def to_pcm16(audio: NDArray[np.floating[Any]], sample_rate: int) -> NDArray[np.int16]:
    """Float ``(channels, samples)`` audio as int16 ``(frames, channels)``, clipped to full scale."""
    check_audio(audio, sample_rate)
    return _quantise(audio, 16).astype("<i2")


def to_pcm24(audio: NDArray[np.floating[Any]], sample_rate: int) -> NDArray[np.int32]:
    """Float audio as 24-bit values in int32 ``(frames, channels)`` (not shifted), clipped."""
    check_audio(audio, sample_rate)
    return _quantise(audio, 24)


def write_pcm(
    path: Path, audio: NDArray[np.floating[Any]], sample_rate: int, bits: int, fmt: str
) -> None:
    """Write float audio to ``path`` as ``fmt`` ("wav" or "flac"), ``bits``-bit PCM, quantised
    once by ``to_pcm16``/``to_pcm24``; libsndfile then stores those integers as they are."""
    if bits not in BITS:
        raise ExportError(f"bits per sample must be 16 or 24, got {bits!r}")
    # Integers, not floats, go to libsndfile, so its own float scaling (which truncates) never
    # runs; it takes int32 as left-justified, so a 24-bit value v goes in as v << 8.
    pcm = to_pcm16(audio, sample_rate) if bits == 16 else to_pcm24(audio, sample_rate) << 8
    sf.write(path, pcm, sample_rate, subtype=_SUBTYPES[bits], format=fmt.upper())


def audio_sha256(path: Path) -> str:
    """sha256 of the decoded 16-bit samples of ``path``, read in blocks; soundfile errors pass."""
    with sf.SoundFile(path) as f:
        digest = hashlib.sha256(_header("s16le", f.channels, f.samplerate))
        while True:
            block = f.read(_BLOCK_FRAMES, dtype="int16", always_2d=True)
            if not len(block):
                break
            digest.update(block.astype("<i2", copy=False).tobytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of the file's bytes, tags and all."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _header(fmt: str, channels: int, sample_rate: int) -> bytes:
    return f"pcm_{fmt}:{channels}ch:{sample_rate}Hz\n".encode("ascii")


@dataclass(frozen=True)
class Digests:
    """What identifies one piece of audio: digests of its samples (see the module's docstring).

    ``exact`` maps a format to the digest of the samples in it, for every format they are
    exactly (the native one first). ``quantised`` (in-memory audio only) maps "s16le"/"s24le" to
    the digest of the audio as an export at that depth would quantise it, where that is not
    exact. ``audio_sha256`` is the 16-bit read digest (module docstring), None where it was not
    worked out (float and coded files: ``fingerprint.audio_sha256`` reads them again).
    ``pcm16_rounded_sha256`` is, for 24-bit audio, the ``s16le`` digest of its samples rounded
    to 16 bits (round half up, clipped: what ``sox -D`` writes).
    """

    channels: int
    sample_rate: int
    frames: int
    pcm_format: str | None  # the native format; None for coded audio (Vorbis, MP3, 8-bit, ...)
    exact: dict[str, str]
    audio_sha256: str | None = None
    pcm16_rounded_sha256: str | None = None
    quantised: dict[str, str] = field(default_factory=dict)

    @property
    def pcm_sha256(self) -> str | None:
        """The digest of the samples in their native format."""
        return self.exact.get(self.pcm_format) if self.pcm_format else None


class _Stream:
    """Hashes blocks of samples at every depth they are exactly, dropping a depth for good once
    a block holds a sample that does not fit it."""

    def __init__(self, channels: int, sample_rate: int, native: str | None) -> None:
        self.channels, self.sample_rate, self.native, self.frames = channels, sample_rate, native, 0
        formats = [native] if native else []
        if native != "s16le":  # 16-bit samples are hashed as themselves only
            formats += [f for f in ("s24le", "s16le") if f != native]
        self.hashers = {f: hashlib.sha256(_header(f, channels, sample_rate)) for f in formats}
        self.read16 = hashlib.sha256(_header("s16le", channels, sample_rate))
        self.rounded16 = hashlib.sha256(_header("s16le", channels, sample_rate))

    def _keep(self, fmt: str, fits: bool) -> bool:
        """Whether ``fmt`` is still hashed after this block; the native format always is."""
        if fmt in self.hashers and fmt != self.native and not fits:
            del self.hashers[fmt]
        return fmt in self.hashers

    def feed(self, block: NDArray[Any]) -> None:
        """One block ``(frames, channels)``, read with the dtype of the native format."""
        self.frames += len(block)
        native = self.native
        if native == "s16le":
            self.hashers[native].update(block.astype("<i2").tobytes())
            return
        if native in _FLOATS:
            self.hashers[native].update(block.astype(_FLOATS[native]).tobytes())
        v24: NDArray[np.int64] | None = None
        if native in ("s24le", "s32le"):
            wide = block.astype(np.int64)  # libsndfile hands both over left-justified in 32 bits
            self.read16.update((wide >> 16).astype("<i2").tobytes())
            if native == "s32le":
                self.hashers[native].update(block.astype("<i4").tobytes())
            else:
                rounded = np.minimum((wide + (1 << 15)) >> 16, 32767)
                self.rounded16.update(rounded.astype("<i2").tobytes())
            if self._keep("s24le", not (wide & 0xFF).any()):
                v24 = wide >> 8
        elif "s24le" in self.hashers:
            scaled = block.astype(np.float64) * float(1 << 23)
            whole = bool(np.all(scaled == np.rint(scaled)))
            fits = whole and scaled.min() >= -(1 << 23) and scaled.max() < 1 << 23
            if self._keep("s24le", fits):
                v24 = scaled.astype(np.int64)
        if v24 is not None:
            self.hashers["s24le"].update(_pack24(v24).tobytes())
        if self._keep("s16le", v24 is not None and not (v24 & 0xFF).any()):
            assert v24 is not None
            self.hashers["s16le"].update((v24 >> 8).astype("<i2").tobytes())

    def digests(self) -> Digests:
        exact = {f: h.hexdigest() for f, h in self.hashers.items()}
        read16: str | None = None
        if self.native == "s16le":
            read16 = exact["s16le"]
        elif self.native in ("s24le", "s32le"):
            read16 = self.read16.hexdigest()
        rounded = self.rounded16.hexdigest() if self.native == "s24le" else None
        return Digests(
            self.channels, self.sample_rate, self.frames, self.native, exact, read16, rounded
        )


def file_digests(path: Path) -> Digests:
    """The digests of an audio file's samples, in one pass of blocks; soundfile errors pass."""
    with sf.SoundFile(path) as f:
        native = _NATIVE.get(f.subtype)
        stream = _Stream(f.channels, f.samplerate, native)
        dtype = _READ_DTYPE[native] if native else "float64"
        while True:
            block = f.read(_BLOCK_FRAMES, dtype=dtype, always_2d=True)
            if not len(block):
                break
            stream.feed(block)
    return stream.digests()


def array_digests(audio: NDArray[np.floating[Any]], sample_rate: int) -> Digests:
    """The digests a file of ``audio`` (float ``(channels, samples)``) would have.

    ``exact``: "f32le" (a float32 WAV of it, as takes are kept; float64 audio is cast to float32
    first), plus "s24le"/"s16le" where every sample is exactly a 24-/16-bit value (audio decoded
    from such a file). ``quantised``: "s24le"/"s16le" of the audio as ``to_pcm24``/``to_pcm16``
    quantise it for an export, where that is not exact.
    """
    check_audio(audio, sample_rate)
    samples = np.ascontiguousarray(audio.astype(np.float32).T)
    stream = _Stream(samples.shape[1], sample_rate, "f32le")
    for start in range(0, len(samples), _BLOCK_FRAMES):
        stream.feed(samples[start : start + _BLOCK_FRAMES])
    found = stream.digests()
    quantised = {}
    for bits in BITS:
        fmt = pcm_format(bits)
        if fmt not in found.exact:
            header = _header(fmt, samples.shape[1], sample_rate)
            pcm = _quantise(samples.T, bits)
            data = pcm.astype("<i2").tobytes() if bits == 16 else _pack24(pcm).tobytes()
            quantised[fmt] = hashlib.sha256(header + data).hexdigest()
    return Digests(
        found.channels, sample_rate, found.frames, "f32le", found.exact, quantised=quantised
    )


def _pack24(values: NDArray[np.integer[Any]]) -> NDArray[np.uint8]:
    """24-bit values as their 3 little-endian bytes each, shaped (samples, 3)."""
    return (values.astype(np.int64) << 8).astype("<i4").view(np.uint8).reshape(-1, 4)[:, 1:]
