"""Checking and reading the stem files a song is added to the catalogue with."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.catalog.mix import Audio
from musicapp.config import SAMPLE_RATE
from musicapp.core import InvalidInput, Song, check_splits

# Song ids and stem names become folder and file names, so they must be safe ones.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def read_new_stems(song: Song, stem_files: dict[str, Path]) -> list[Audio]:
    """Check a new song's id, splits and stems; return each stem's audio, float32 (samples,)."""
    if not SAFE_NAME.match(song.id):
        raise InvalidInput(f"song id {song.id!r}: use letters, digits, '.', '-' or '_'")
    check_splits(song.id, song.splits)
    names = [s.name for s in song.stems]
    if not names:
        raise InvalidInput(f"song {song.id}: no stems")
    if len(set(names)) != len(names):
        raise InvalidInput(f"song {song.id}: two stems have the same name")
    for name in names:
        if not SAFE_NAME.match(name):
            raise InvalidInput(f"song {song.id}: stem name {name!r} is not a safe file name")
    if set(stem_files) != set(names):
        raise InvalidInput(
            f"song {song.id}: stem files {sorted(stem_files)} do not match stems {names}"
        )
    return [_read_mono(Path(stem_files[name])) for name in names]


def _read_mono(path: Path) -> Audio:
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise InvalidInput(f"stem file {path}: cannot be read ({exc})") from exc
    if rate != SAMPLE_RATE or data.shape[1] != 1:
        raise InvalidInput(
            f"stem file {path}: must be mono at {SAMPLE_RATE} Hz, "
            f"is {data.shape[1]} channel(s) at {rate} Hz"
        )
    if len(data) == 0:
        raise InvalidInput(f"stem file {path}: has no audio")
    return np.ascontiguousarray(data[:, 0])
