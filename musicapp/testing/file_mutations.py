"""Ways to tamper with a signed export, for the tests: each as a person with a hex editor or a
tag editor would, in WAV, FLAC and MP3.

Where the manifest sits: a WAV's ``C2PA`` chunk, an ID3 tag before a FLAC's ``fLaC``, a GEOB
frame of an MP3's ID3v2.4 tag.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import soundfile as sf
from mutagen.flac import FLAC
from mutagen.id3 import GEOB, ID3, TXXX
from mutagen.wave import WAVE

__all__ = [
    "edit_one_sample",
    "put_manifest",
    "read_record",
    "read_tag",
    "set_record_share",
    "set_tag",
    "split_manifest",
]


def _wav_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    out, pos = [], 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        end = pos + 8 + size + (size & 1)
        out.append((cid, pos, end))
        pos = end
    return out


def _id3_size(data: bytes) -> int:
    assert data[:3] == b"ID3"
    return 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))


def _c2pa_frame(id3: ID3) -> Any:  # mutagen's frames declare their fields at run time
    return next(f for f in id3.getall("GEOB") if f.mime == "application/c2pa")


def split_manifest(path: Path) -> tuple[bytes, bytes]:
    """(the file without its manifest, the manifest's bytes as stored; an MP3's: the data of
    the ID3 GEOB frame c2pa keeps it in)."""
    if path.suffix == ".mp3":
        original = path.read_bytes()
        id3 = ID3(path)
        frame = _c2pa_frame(id3)
        id3.delall(frame.HashKey)
        id3.save(path, v2_version=4)
        bare = path.read_bytes()
        path.write_bytes(original)
        return bare, bytes(frame.data)
    data = path.read_bytes()
    if data[:4] == b"RIFF":
        start, end = next((s, e) for c, s, e in _wav_chunks(data) if c == b"C2PA")
        rest = data[:start] + data[end:]
        return rest[:4] + struct.pack("<I", len(rest) - 8) + rest[8:], data[start:end]
    assert data[:3] == b"ID3"
    size = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    assert data[size : size + 4] == b"fLaC"
    return data[size:], data[:size]


def put_manifest(path: Path, manifest: bytes) -> None:
    if path.suffix == ".mp3":
        id3 = ID3(path)
        frame = _c2pa_frame(id3)
        id3.delall(frame.HashKey)
        id3.add(GEOB(encoding=0, mime=frame.mime, filename="", desc=frame.desc, data=manifest))
        id3.save(path, v2_version=4)
        return
    bare, _ = split_manifest(path)
    if bare[:4] == b"RIFF":
        data = bare + manifest
        path.write_bytes(data[:4] + struct.pack("<I", len(data) - 8) + data[8:])
    else:
        path.write_bytes(manifest + bare)


def edit_one_sample(path: Path) -> None:
    """Change one sample and keep everything else: the manifest and the tags stay. (An MP3
    has no samples stored: one byte of its audio frames.)"""
    if path.suffix == ".mp3":
        data = bytearray(path.read_bytes())
        start = _id3_size(bytes(data))
        data[start + (len(data) - start) // 2] ^= 0x40
        path.write_bytes(bytes(data))
        return
    if path.suffix == ".wav":
        data = bytearray(path.read_bytes())
        start = next(s for c, s, _ in _wav_chunks(bytes(data)) if c == b"data") + 8
        data[start + 1000] ^= 0x40
        path.write_bytes(bytes(data))
        return
    _, manifest = split_manifest(path)
    tags: Any = FLAC(path).tags
    audio, rate = sf.read(path, dtype="int32")
    audio[500, 0] ^= 1 << 12
    fresh = path.with_name("fresh.flac")
    sf.write(fresh, audio, rate, subtype="PCM_24")
    flac = FLAC(fresh)
    for key, value in tags:
        flac[key] = [value]
    flac.save()
    path.write_bytes(manifest + fresh.read_bytes())


def set_record_share(path: Path, share: float) -> None:
    """Claim a bigger share in the tags' record, the way a tag editor would."""
    if path.suffix == ".mp3":
        id3 = ID3(path)
        record = json.loads(id3["TXXX:MUSICAPP_ATTRIBUTION"].text[0])
        record["references"][0]["share"] = share
        id3.add(TXXX(encoding=3, desc="MUSICAPP_ATTRIBUTION", text=[json.dumps(record)]))
        id3.save(path, v2_version=4)
        return
    if path.suffix == ".wav":
        wave: Any = WAVE(path)
        record = json.loads(wave.tags["TXXX:MUSICAPP_ATTRIBUTION"].text[0])
        record["references"][0]["share"] = share
        wave.tags.add(TXXX(encoding=1, desc="MUSICAPP_ATTRIBUTION", text=[json.dumps(record)]))
        wave.save(v2_version=3)
    else:
        flac = FLAC(path)
        record = json.loads(flac["MUSICAPP_ATTRIBUTION"][0])
        record["references"][0]["share"] = share
        flac["MUSICAPP_ATTRIBUTION"] = [json.dumps(record)]
        flac.save()


def read_tag(path: Path, name: str) -> str:
    if path.suffix == ".mp3":
        return str(ID3(path)[f"TXXX:{name}"].text[0])
    if path.suffix == ".wav":
        wave: Any = WAVE(path)
        return str(wave.tags[f"TXXX:{name}"].text[0])
    return str(FLAC(path)[name][0])


def read_record(path: Path) -> dict:
    return json.loads(read_tag(path, "MUSICAPP_ATTRIBUTION"))


def set_tag(path: Path, name: str, text: str) -> None:
    """Replace one musicapp tag's text, the way a tag editor would."""
    if path.suffix == ".flac":
        flac = FLAC(path)
        flac[name] = [text]
        flac.save()
        return
    frame = TXXX(encoding=3, desc=name, text=[text])
    if path.suffix == ".wav":
        wave: Any = WAVE(path)
        wave.tags.add(frame)
        wave.save(v2_version=3)
        return
    id3: Any = ID3(path)
    id3.add(frame)
    id3.save(path, v2_version=4)
