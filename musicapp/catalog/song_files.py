"""Checking the audio files a song is added with, and storing them as FLAC at their own depth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.catalog.mix import MIX_ROLE, Audio
from musicapp.core import InvalidInput, Song, check_splits

# Song ids and stem names become folder and file names, so they must be safe ones.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MIN_RATE, MAX_RATE = 8000, 192000  # kept as they are; the importer converts anything else
# Stems (and a full mix) of one song exported together differ by a few samples at most; more
# than this means files from different takes or sessions, which must not be mixed.
MAX_LENGTH_MISMATCH_S = 0.010
MIX_FILE = "mix.flac"
# Descriptive fields a person reads; anything longer is a mistake (a pasted document).
MAX_TEXT = 300
_TEXT_FIELDS = ("title", "artist", "album", "genre", "subgenre", "era", "country", "region", "key")
# Integer PCM is copied as integers, so 16- and 24-bit sources are stored bit for bit.
_INT16_SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "ALAW", "ULAW"})
_INT24_SUBTYPES = frozenset({"PCM_24", "PCM_32"})
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
_BLOCK = 1 << 16


@dataclass(frozen=True)
class SourceFile:
    """One file a song is added with: its header, checked."""

    path: Path
    rate: int
    channels: int
    frames: int
    subtype: str

    @property
    def stored_subtype(self) -> str:
        return stored_subtype(self.subtype)


def stored_subtype(subtype: str) -> str:
    """The FLAC depth that keeps a source's: 24 bit for 24-, 32-bit and float sources, else 16."""
    return "PCM_24" if subtype in _INT24_SUBTYPES or subtype in _FLOAT_SUBTYPES else "PCM_16"


def check_new_song(
    song: Song, stem_files: dict[str, Path], mix_file: Path | None
) -> tuple[dict[str, SourceFile], SourceFile | None, int]:
    """Check a new song's id, fields, splits, stems and files; return the stems' and the mix's
    checked headers and the length every file is cut to (the shortest)."""
    if not SAFE_NAME.match(song.id):
        raise InvalidInput(f"song id {song.id!r}: use letters, digits, '.', '-' or '_'")
    for name in _TEXT_FIELDS:
        if len(getattr(song, name)) > MAX_TEXT:
            raise InvalidInput(
                f"song {song.id}: {name} is {len(getattr(song, name))} characters, "
                f"at most {MAX_TEXT}"
            )
    check_splits(song.id, song.splits)
    if not MIN_RATE <= song.sample_rate <= MAX_RATE:
        raise InvalidInput(
            f"song {song.id}: sample rate {song.sample_rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz"
        )
    names = [s.name for s in song.stems]
    if not names and mix_file is None:
        raise InvalidInput(f"song {song.id}: no stems and no mix file")
    if len(set(names)) != len(names):
        raise InvalidInput(f"song {song.id}: two stems have the same name")
    for stem in song.stems:
        if not SAFE_NAME.match(stem.name):
            raise InvalidInput(f"song {song.id}: stem name {stem.name!r} is not a safe file name")
        if stem.role == MIX_ROLE:
            raise InvalidInput(
                f"song {song.id}: stem {stem.name} has role {MIX_ROLE!r}, which is reserved; "
                "give the full mix as the mix file"
            )
    if set(stem_files) != set(names):
        raise InvalidInput(
            f"song {song.id}: stem files {sorted(stem_files)} do not match stems {names}"
        )
    stems = {name: probe(Path(stem_files[name]), song.sample_rate) for name in names}
    mix = probe(Path(mix_file), song.sample_rate) if mix_file is not None else None
    files = [*stems.values(), *([mix] if mix else [])]
    short = min(files, key=lambda f: f.frames)
    long = max(files, key=lambda f: f.frames)
    if long.frames - short.frames > MAX_LENGTH_MISMATCH_S * song.sample_rate:
        raise InvalidInput(
            f"song {song.id}: {long.path} lasts {long.frames / song.sample_rate:.3f} s and "
            f"{short.path} {short.frames / song.sample_rate:.3f} s; a song's files may differ "
            f"by {MAX_LENGTH_MISMATCH_S * 1000:g} ms at most"
        )
    return stems, mix, short.frames


def probe(path: Path, rate: int) -> SourceFile:
    """The checked header of one file: readable, mono or stereo, not empty, at `rate`."""
    try:
        info = sf.info(str(path))
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise InvalidInput(f"audio file {path}: cannot be read ({exc})") from exc
    if info.channels not in (1, 2):
        raise InvalidInput(
            f"audio file {path}: must be mono or stereo, has {info.channels} channels"
        )
    if info.frames <= 0:
        raise InvalidInput(f"audio file {path}: has no audio")
    if info.samplerate != rate:
        raise InvalidInput(
            f"audio file {path}: is at {info.samplerate} Hz, the song is at {rate} Hz "
            "(a song's files share one rate)"
        )
    return SourceFile(
        path, int(info.samplerate), int(info.channels), int(info.frames), info.subtype
    )


def read_all(source: SourceFile, frames: int) -> Audio:
    """The first `frames` of a source as float32 (channels, frames)."""
    data, _ = sf.read(str(source.path), frames=frames, dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T)


def store_flac(source: SourceFile, dest: Path, frames: int) -> None:
    """Encode the first `frames` of a source as FLAC at its own depth, a block at a time.

    Integer PCM is read and written as integers, so it is stored bit for bit; float sources
    become 24-bit, clipped at full scale (libsndfile would wrap larger samples around).
    """
    subtype = source.stored_subtype
    if source.subtype in _INT16_SUBTYPES:
        dtype = "int16"
    elif source.subtype in _INT24_SUBTYPES:
        dtype = "int32"  # libsndfile keeps the top 24 bits when it writes PCM_24
    else:
        dtype = "float64"
    try:
        with (
            sf.SoundFile(str(source.path)) as src,
            sf.SoundFile(
                str(dest), "w", source.rate, source.channels, subtype=subtype, format="FLAC"
            ) as out,
        ):
            left = frames
            while left > 0:
                block = src.read(min(_BLOCK, left), dtype=dtype, always_2d=True)
                if len(block) == 0:
                    break
                if dtype == "float64":
                    block = np.clip(block, -1.0, 1.0)
                out.write(block)
                left -= len(block)
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise InvalidInput(f"audio file {source.path}: cannot be stored ({exc})") from exc
    if left > 0:
        raise InvalidInput(
            f"audio file {source.path}: ended {left} frames before its header said it would"
        )
