"""Audio files to import: which ones, their content hash, their tags, their decoded audio."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from musicapp.audio.io import AudioError, resample, to_channels
from musicapp.catalog.song_files import MAX_RATE, MIN_RATE, stored_subtype

# libsndfile 1.1+ decodes MP3 itself, so no extra decoder is needed where it does.
AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff"}
    | ({".mp3"} if "MP3" in sf.available_formats() else set())
)
MIN_SECONDS = 1.0  # shorter than a bar of music: nothing to reference
MAX_SECONDS = 20 * 60.0  # keeps one file's decoding under about 1 GB of memory
# Files add_song can store as they are: exact frame counts, integer or float PCM.
_PASS_FORMATS = frozenset({"WAV", "WAVEX", "FLAC", "AIFF"})
_PASS_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})
_LOSSY_SUBTYPES = frozenset({"VORBIS", "OPUS", "MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"})


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class SourceAudio:
    """One audio file to import, checked: its format and what its header says, with the frame
    count that could really be decoded."""

    path: Path
    format: str
    subtype: str
    rate: int
    channels: int
    frames: int

    @property
    def lossy(self) -> bool:
        return self.subtype in _LOSSY_SUBTYPES or self.format in ("MP3", "OGG")


def inspect(path: Path) -> SourceAudio:
    """Check that a file decodes whole, reading it a block at a time (memory stays flat).

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
    frames = 0
    try:
        with sf.SoundFile(str(path)) as f:
            for block in f.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
                if not np.all(np.isfinite(block)):
                    raise AudioError("contains samples that are not finite numbers")
                frames += len(block)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"truncated or damaged {info.format} ({exc})") from exc
    if frames < info.frames and info.format != "MP3":  # MP3 frame counts are estimates
        raise AudioError(
            f"truncated {info.format}: the header says {info.frames} frames, "
            f"only {frames} could be decoded"
        )
    if frames == 0:
        raise AudioError("zero-length audio")
    rate = int(info.samplerate)
    if frames / rate < MIN_SECONDS:
        raise AudioError(f"too short ({frames / rate:.3f} s; at least {MIN_SECONDS:g} s)")
    return SourceAudio(path, str(info.format), str(info.subtype), rate, info.channels, frames)


def kept_rate(rate: int) -> int:
    """The rate the catalogue keeps a source at: its own, brought into MIN_RATE..MAX_RATE."""
    return min(max(rate, MIN_RATE), MAX_RATE)


def storable(source: SourceAudio, rate: int, folder: Path, name: str) -> Path:
    """A file CatalogStore.add_song can keep for this source at `rate`: the source itself when
    it is mono or stereo PCM WAV, FLAC or AIFF at that rate, else a WAV written in `folder`.

    The written WAV keeps 16-bit sources (and lossy ones, whose noise is far above 16 bits) at
    16 bit and others as float, which the store keeps at 24 bit.
    """
    if (
        source.format in _PASS_FORMATS
        and source.channels <= 2
        and source.rate == rate
        and source.subtype in _PASS_SUBTYPES
    ):
        return source.path
    try:
        data, _ = sf.read(str(source.path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"truncated or damaged {source.format} ({exc})") from exc
    audio = to_channels(np.ascontiguousarray(data.T), min(source.channels, 2))
    del data
    audio = resample(audio, source.rate, rate)
    out = folder / f"{name}.wav"
    sixteen = source.lossy or stored_subtype(source.subtype) == "PCM_16"
    subtype = "PCM_16" if sixteen else "FLOAT"
    sf.write(str(out), np.clip(audio, -1.0, 1.0).T, rate, subtype=subtype, format="WAV")
    return out


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
