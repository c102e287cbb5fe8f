"""Audio files to import: which ones, their content hash, their tags, their decoded audio."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from musicapp.audio.io import AudioError, resample
from musicapp.catalog.mix import Audio
from musicapp.config import SAMPLE_RATE

# libsndfile 1.1+ decodes MP3 itself, so no extra decoder is needed where it does.
AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff"}
    | ({".mp3"} if "MP3" in sf.available_formats() else set())
)
MIN_SECONDS = 1.0  # shorter than a bar of music: nothing to reference
MAX_SECONDS = 20 * 60.0  # keeps one file's decoding under about 1 GB of memory


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode(path: Path) -> tuple[Audio, str]:
    """Decode a file to float32 (channels ≤ 2, samples) at SAMPLE_RATE, and its format name.

    Raises AudioError with a reason a person can act on ("zero-length audio", "truncated FLAC").
    """
    size = path.stat().st_size
    if size == 0:
        raise AudioError("empty file (0 bytes)")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(_unreadable(path, exc)) from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError("zero-length audio")
    if info.frames / info.samplerate > MAX_SECONDS:
        raise AudioError(
            f"too long ({info.frames / info.samplerate / 60:.0f} min; "
            f"at most {MAX_SECONDS / 60:.0f} min per song)"
        )
    if info.format == "WAV":
        _check_wav_length(path, size)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"truncated or damaged {info.format} ({exc})") from exc
    if len(data) < info.frames and info.format != "MP3":  # MP3 frame counts are estimates
        raise AudioError(
            f"truncated {info.format}: the header says {info.frames} frames, "
            f"only {len(data)} could be decoded"
        )
    if len(data) == 0:
        raise AudioError("zero-length audio")
    if len(data) / rate < MIN_SECONDS:
        raise AudioError(f"too short ({len(data) / rate:.3f} s; at least {MIN_SECONDS:g} s)")
    if not np.all(np.isfinite(data)):
        raise AudioError("contains samples that are not finite numbers")
    # More than two channels: the first two are the front left and right in every usual layout.
    audio = np.ascontiguousarray(data.T[:2])
    return resample(audio, int(rate), SAMPLE_RATE), str(info.format)


def _unreadable(path: Path, exc: Exception) -> str:
    with path.open("rb") as f:
        head = f.read(512)
    if head and not head.strip(b"\0"):
        return "not an audio file (only zero bytes)"
    try:
        head.decode("utf-8")
        if all(c.isprintable() or c.isspace() for c in head.decode("utf-8")):
            return "not an audio file (text)"
    except UnicodeDecodeError:
        pass
    what = f"a valid {path.suffix} file" if path.suffix else "an audio file"
    return f"not {what}: the contents are not a format libsndfile reads ({exc})"


def _check_wav_length(path: Path, size: int) -> None:
    # libsndfile quietly reads what there is of a WAV whose data chunk runs past the end of the
    # file (an interrupted copy); importing that would store a cut-off song as if it were whole.
    with path.open("rb") as f:
        header = f.read(12)
        if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"data":
                left = size - f.tell()
                if length > left:
                    raise AudioError(
                        f"truncated WAV: the header claims {length} bytes of audio, "
                        f"the file holds {left}"
                    )
                return
            f.seek(length + (length & 1), 1)


def read_tags(path: Path) -> dict[str, Any]:
    """Title, artist, album, genre and year from the file's tags (missing ones left out)."""
    import mutagen

    try:
        tagged = mutagen.File(str(path), easy=True)
    except Exception:  # noqa: BLE001 - mutagen raises many types for damaged tags; tags are optional
        return {}
    tags = getattr(tagged, "tags", None)
    if tags is None:
        return {}
    out: dict[str, Any] = {}
    names = {
        "title": ("title", "TIT2"),
        "artist": ("artist", "albumartist", "TPE1", "TPE2"),
        "album": ("album", "TALB"),
        "genre": ("genre", "TCON"),
        "date": ("date", "year", "originaldate", "TDRC", "TYER"),
    }
    for field, keys in names.items():
        for key in keys:
            value = _first(tags, key)
            if value:
                out[field] = value
                break
    date = out.pop("date", "")
    if date[:4].isdigit():
        out["year"] = int(date[:4])
    return out


def _first(tags: Any, key: str) -> str:
    try:
        value = tags.get(key)
    except (KeyError, ValueError, TypeError):
        return ""
    if value is None:
        return ""
    if hasattr(value, "text"):  # an ID3 frame (WAV files have no "easy" tag mapping)
        value = value.text
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()
