"""Exact content digests of audio: whole files, decoded PCM, and content-defined chunks.

What the studio needs to recognise catalogue audio that comes back as "your audio" (a stem file,
a preview saved to disk, a cut of a song's mix) whatever the container, file name or cut points.

- ``file_sha256``: the bytes of a file (a stem file handed on as it is).
- ``pcm_sha256``: the decoded samples as 16-bit PCM (FLAC <-> WAV conversions keep it).
- ``chunk_digests``: the 16-bit samples of each channel cut at content-defined points (a rolling
  hash of the last WINDOW samples picks the cuts, as in content-defined chunking for backups), so
  a cut of the audio, or the audio inside a longer file, still shares the chunks in its middle.

Samples are compared as 16-bit steps, ``floor(x * 32768)`` of the samples as soundfile reads them
(float, full scale 1.0): the raw values of a 16-bit file, a 24-bit file's top 16 bits, and what
libsndfile itself stores when it writes float audio to 16 or 24 bits, so a float, 16-bit or
24-bit file of the same audio all agree. Audio held in memory as float also gets the form a
rounding writer (ffmpeg, sox) would store (``pcm16_variants``). These are exact matches only: resampled, re-encoded lossy or re-mixed audio
is the corroborative audit's job (fingerprints), not this one's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

WINDOW = 6  # samples the rolling hash looks at
CUT_BITS = 12  # a cut where the mixed hash's top CUT_BITS bits are zero: one in 4096 samples
MIN_CHUNK = 2048  # samples; shorter spans merge into the next chunk
MIN_SWING = 64  # int16 steps peak to peak: quieter chunks (silence, hiss) identify nothing
DIGEST_BYTES = 16
_BLOCK = 1 << 20  # samples per block of the rolling hash, to keep memory flat on long files
_RNG = np.random.default_rng(0x5EED)
_COEFFS = (_RNG.integers(1, 2**31, WINDOW, dtype=np.uint32) | np.uint32(1)).astype(np.uint32)
_MIX = np.uint32(0x9E3779B1)


@dataclass(frozen=True)
class Chunk:
    """One content-defined chunk of one channel: its digest and where it lies (in frames)."""

    digest: bytes
    channel: int
    start: int
    length: int


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _steps(x: np.ndarray, rounding: str = "floor") -> np.ndarray:
    """Float samples as int16 steps of 1/32768: "floor" (libsndfile's WAV and AIFF writers),
    "nearest" (its FLAC writer at 16 bits, ffmpeg, sox), or "nearest24" (rounded to 24 bits
    first, as its FLAC writer does at 24 bits, then read back as 16-bit steps)."""
    # float32 is exact here: scaling by a power of two only moves the exponent.
    scaled = np.asarray(x, dtype=np.float32) * np.float32(32768.0)
    if rounding == "floor":
        steps = np.floor(scaled)
    elif rounding == "nearest":
        steps = np.rint(scaled)
    else:
        steps = np.floor(np.rint(scaled * np.float32(256.0)) / np.float32(256.0))
    return np.ascontiguousarray(np.clip(steps, -32768, 32767).astype(np.int16))


def read_pcm16(path: Path) -> tuple[np.ndarray, int]:
    """A sound file's samples as 16-bit steps: int16 (frames, channels), and its rate."""
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return _steps(data), int(rate)


def pcm16_variants(audio: np.ndarray) -> list[np.ndarray]:
    """Float (channels, n) audio as the int16 (frames, channels) steps a file written from it
    reads back as: by libsndfile (16-bit, 24-bit or float), or by a rounding writer."""
    x = np.asarray(audio).T
    out = [_steps(x)]
    for rounding in ("nearest", "nearest24"):
        steps = _steps(x, rounding)
        if not any(np.array_equal(steps, o) for o in out):
            out.append(steps)
    return out


def pcm_sha256(pcm: np.ndarray) -> str:
    """sha256 of int16 (frames, channels) samples with their channel count."""
    pcm = np.ascontiguousarray(pcm, dtype="<i2")
    digest = hashlib.sha256(f"pcm16:{pcm.shape[1]}ch\n".encode("ascii"))
    digest.update(pcm.tobytes())
    return digest.hexdigest()


def _cut_points(x: np.ndarray) -> np.ndarray:
    """Content-defined cut positions of one channel (int16 samples), MIN_CHUNK apart at least."""
    n = len(x)
    if n <= WINDOW:
        return np.zeros(0, dtype=np.int64)
    found = []
    s = x.astype(np.int32).view(np.uint32)  # arithmetic wraps modulo 2**32, as intended
    for lo in range(WINDOW - 1, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        h = np.zeros(hi - lo, dtype=np.uint32)
        for k in range(WINDOW):
            h += _COEFFS[k] * s[lo - k : hi - k]
        top = (h * _MIX) >> np.uint32(32 - CUT_BITS)
        found.append(np.flatnonzero(top == 0) + lo + 1)  # a cut after the window's last sample
    marks = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    cuts = []
    last = 0
    i = int(np.searchsorted(marks, MIN_CHUNK))
    while i < len(marks):
        pos = int(marks[i])
        if pos >= n:
            break
        cuts.append(pos)
        last = pos
        i = int(np.searchsorted(marks, last + MIN_CHUNK, side="left"))
    return np.asarray(cuts, dtype=np.int64)


def chunk_digests(pcm: np.ndarray) -> list[Chunk]:
    """The content-defined chunks of every channel of int16 (frames, channels) audio that carry
    sound (a swing of at least MIN_SWING steps); near-silent chunks are left out."""
    pcm = np.asarray(pcm)
    if pcm.ndim == 1:
        pcm = pcm[:, None]
    out = []
    for ch in range(pcm.shape[1]):
        x = np.ascontiguousarray(pcm[:, ch], dtype="<i2")
        bounds = [0, *_cut_points(x).tolist(), len(x)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            part = x[a:b]
            if b - a < WINDOW or int(part.max()) - int(part.min()) < MIN_SWING:
                continue
            digest = hashlib.blake2b(part.tobytes(), digest_size=DIGEST_BYTES).digest()
            out.append(Chunk(digest, ch, a, b - a))
    return out


def covered_frames(chunks: list[Chunk], n_frames: int) -> int:
    """How many frames at least one of `chunks` (of any channel) covers."""
    mask = np.zeros(n_frames, dtype=bool)
    for c in chunks:
        mask[c.start : c.start + c.length] = True
    return int(mask.sum())


def iter_digest_rows(chunks: list[Chunk]) -> Iterator[bytes]:
    """The distinct digests of `chunks`, in order of first appearance."""
    seen: set[bytes] = set()
    for c in chunks:
        if c.digest not in seen:
            seen.add(c.digest)
            yield c.digest
