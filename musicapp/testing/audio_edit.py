"""Editing an exported file's samples the way an audio editor that leaves the tags alone would:
one sample moves, and every tag, the sidecar and the C2PA manifest stay where they were.

``exports.change_one_sample`` writes an untagged copy, which tests identification by content;
this keeps the file's record, so what is tested is that the record no longer vouches for it.
"""

from __future__ import annotations

import io
import shutil
import struct
from pathlib import Path

import soundfile as sf


def _flac_frames(data: bytes) -> int:
    """Where a FLAC's audio frames start: after an ID3 tag in front (where C2PA sits), the
    "fLaC" marker and the metadata blocks."""
    pos = 0
    if data[:3] == b"ID3":
        size = 0
        for byte in data[6:10]:  # a syncsafe integer: seven bits a byte
            size = (size << 7) | byte
        pos = 10 + size + (10 if data[5] & 0x10 else 0)  # a footer follows when flagged
    if data[pos : pos + 4] != b"fLaC":
        raise ValueError("not a FLAC file: no fLaC marker")
    pos += 4
    while True:
        header = data[pos]
        pos += 4 + int.from_bytes(data[pos + 1 : pos + 4], "big")
        if header & 0x80:  # the last metadata block
            return pos


def _wav_data(data: bytes) -> tuple[int, int]:
    """The byte range of a WAV's data chunk."""
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"data":
            return pos + 8, pos + 8 + size
        pos += 8 + size + (size & 1)
    raise ValueError("not a WAV file: no data chunk")


def edit_one_sample(source: Path, out: Path, steps: int = 1) -> Path:
    """A copy of ``source`` (an exported WAV or FLAC) whose middle sample of the first channel
    is ``steps`` of its format's smallest steps off, everything else (tags, C2PA manifest)
    byte for byte as it was. The samples are re-encoded through soundfile."""
    info = sf.info(str(source))
    data, rate = sf.read(source, dtype="int32", always_2d=True)
    lsb = {"PCM_16": 1 << 16, "PCM_24": 1 << 8}.get(info.subtype, 1)
    data[len(data) // 2, 0] += steps * lsb
    original = Path(source).read_bytes()
    encoded = io.BytesIO()
    fmt = "FLAC" if info.format == "FLAC" else "WAV"
    sf.write(encoded, data, rate, format=fmt, subtype=info.subtype)
    fresh = encoded.getvalue()
    if fmt == "FLAC":
        body = original[: _flac_frames(original)] + fresh[_flac_frames(fresh) :]
    else:
        start, end = _wav_data(original)
        new_start, new_end = _wav_data(fresh)
        if new_end - new_start != end - start:
            raise ValueError(f"{source}: the re-encoded samples are not the same size")
        body = original[:start] + fresh[new_start:new_end] + original[end:]
    Path(out).write_bytes(body)
    sidecar = Path(f"{source}.attribution.json")
    if sidecar.is_file():  # the sidecar travels with the file, as a copy in a folder would
        shutil.copy(sidecar, f"{out}.attribution.json")
    return Path(out)
