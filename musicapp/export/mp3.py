"""MP3 exports: LAME encoding (lameenc) at the take's own rate, and the digest of the MP3's frames.

MP3 is lossy: its decoded samples are not the take's, and two decoders need not agree to the bit,
so an MP3 export cannot be identified by a PCM digest as WAV and FLAC are. What identifies it is
``mp3_frames_sha256``: sha256 over the encoded audio frames, i.e. the file's bytes without its
ID3v2 tag(s) at the start and an ID3v1 tag at the end. Retagging leaves it unchanged; any change
to the audio, a re-encode included, changes it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import lameenc
import numpy as np
from numpy.typing import NDArray

from musicapp.export.fingerprint import to_pcm16
from musicapp.export.record import ExportError

# The MPEG-1 Layer III rates: every bitrate below is allowed at each of them. The MPEG-2/2.5
# rates (8-24 kHz) would cap the bitrate at 160 kbit/s and are not what a take is made at.
MP3_RATES = (32000, 44100, 48000)
BITRATES = (128, 160, 192, 224, 256, 320)  # kbit/s, constant bitrate
DEFAULT_BITRATE = 320
_LAME_QUALITY = 2  # LAME's -q 2: "near-best", the setting LAME recommends over -q 0
_ID3V2_HEADER = 10
_ID3V1_SIZE = 128
_BLOCK = 1 << 20


def check_mp3(sample_rate: int, bitrate: int) -> None:
    """ExportError naming the rate or bitrate an MP3 export cannot be made at."""
    if sample_rate not in MP3_RATES:
        allowed = ", ".join(f"{r / 1000:g}" for r in MP3_RATES)
        raise ExportError(
            f"MP3 cannot be written at the take's {sample_rate} Hz (MP3 allows {allowed} kHz, "
            "and musicapp does not resample an export); export it as .wav or .flac instead"
        )
    if isinstance(bitrate, bool) or bitrate not in BITRATES:
        allowed = ", ".join(str(b) for b in BITRATES)
        raise ExportError(f"MP3 bitrate must be one of {allowed} kbit/s, got {bitrate!r}")


def encode_mp3(
    path: Path, audio: NDArray[np.floating[Any]], sample_rate: int, bitrate: int
) -> None:
    """Write float ``(channels, samples)`` audio (mono or stereo) to ``path`` as a CBR MP3.

    LAME takes 16-bit PCM, so the audio is quantised once by ``to_pcm16`` (as a 16-bit export
    would be) and encoded at ``sample_rate`` itself: LAME is told the output rate so that it
    never picks another one on its own.
    """
    check_mp3(sample_rate, bitrate)
    channels = audio.shape[0]
    if channels > 2:
        raise ExportError(f"MP3 holds mono or stereo audio; this take has {channels} channels")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(_LAME_QUALITY)
    pcm = to_pcm16(audio, sample_rate)  # (frames, channels), interleaved as LAME wants it
    with open(path, "wb") as f:
        f.write(bytes(encoder.encode(pcm.tobytes())))
        f.write(bytes(encoder.flush()))


def _syncsafe(raw: bytes) -> int:
    if any(b & 0x80 for b in raw):
        raise ValueError("its ID3v2 tag header has a damaged size field")
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def frames_range(path: Path) -> tuple[int, int]:
    """(start, end) byte offsets of the audio frames: after any ID3v2 tags, before an ID3v1 tag.

    ValueError if a tag header is damaged; OSError passes to the caller.
    """
    size = path.stat().st_size
    start = 0
    with open(path, "rb") as f:
        while True:  # more than one ID3v2 tag in a row happens after careless retagging
            f.seek(start)
            header = f.read(_ID3V2_HEADER)
            if len(header) < _ID3V2_HEADER or header[:3] != b"ID3":
                break
            footer = _ID3V2_HEADER if header[5] & 0x10 else 0
            start += _ID3V2_HEADER + _syncsafe(header[6:10]) + footer
        end = size
        if size - start >= _ID3V1_SIZE:
            f.seek(size - _ID3V1_SIZE)
            if f.read(3) == b"TAG":
                end = size - _ID3V1_SIZE
    if start >= end:
        raise ValueError("it holds tags but no audio frames")
    return start, end


def mp3_frames_sha256(path: Path) -> str:
    """sha256 of the MP3's audio frames (the module's docstring); ValueError, OSError pass."""
    start, end = frames_range(path)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = f.read(min(_BLOCK, left))
            if not chunk:
                raise ValueError("the file ended before its audio frames did")
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def involved_people(attribution: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, name) pairs for ID3's TIPL frame: each rights holder, with its share in the role
    ("rights holder 62.5%"), or its own ``role``/``kind`` where the record gives one."""
    people = []
    holders = attribution.get("rights_holders")
    for holder in holders if isinstance(holders, list) else []:
        if not isinstance(holder, dict):
            continue
        name = str(holder.get("name") or holder.get("id") or "").strip()
        if not name:
            continue
        role = str(holder.get("role") or holder.get("kind") or "rights holder")
        share = holder.get("share")
        if isinstance(share, int | float) and not isinstance(share, bool):
            role = f"{role} {round(share * 100, 1):g}%"
        people.append((role, name))
    return people
