"""Reading a stored song's audio back: its mix and each stem as it sits in the mix, in stereo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.catalog import mix
from musicapp.catalog.errors import CatalogError
from musicapp.catalog.mix import Audio
from musicapp.core import InvalidInput, Stem


@dataclass(frozen=True)
class StoredSong:
    """Where and how one song's audio is kept (its row in songs and in stems)."""

    song_id: str
    folder: Path
    rate: int
    layout: str  # mix.SPREAD or mix.RECORDED
    mix_file: str  # its own full mix in `folder`, or "" when the mix is the stems' sum
    gain: float
    stems: tuple[Stem, ...]
    channels: tuple[Stem, ...] = ()  # an older import's mix channels (mix.MIX_STEMS)
    duration_s: float = 0.0

    @property
    def has_own_mix(self) -> bool:
        return bool(self.mix_file or self.channels)

    def files(self) -> dict[str, Path]:
        """Stem name -> stored file, and "" -> the own mix file (an older import: its channel
        files under their names, mix-left and mix-right or mix-mono)."""
        out = {s.name: self.stem_path(s.name) for s in self.stems}
        out.update((c.name, self._path(c.name)) for c in self.channels)
        if self.mix_file:
            out[""] = self.folder / self.mix_file
        return out

    def stem_path(self, name: str) -> Path:
        if name not in {s.name for s in self.stems}:
            have = ", ".join(s.name for s in self.stems) or "none"
            raise InvalidInput(f"song {self.song_id} has no stem {name!r} (it has {have})")
        return self._path(name)

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.flac"

    def read_mix(self, start: int, stop: int | None) -> Audio:
        """float32 (2, n): the own mix, else the stems' sum as they sit in it."""
        if self.mix_file:
            return mix.place(self._read(self.folder / self.mix_file, start, stop), _CENTRE)
        parts = self.channels or self.stems
        gains = mix.layout_gains(parts, self.layout)
        tracks = [self._read(self._path(s.name), start, stop) for s in parts]
        return mix.mixdown(tracks, gains, self.gain)

    def read_stem(self, name: str, start: int, stop: int | None) -> Audio:
        """float32 (2, n): one stem as it sits in the mix (placed, times the song's gain)."""
        path = self.stem_path(name)
        index = [s.name for s in self.stems].index(name)
        lr = mix.layout_gains(self.stems, self.layout)[index]
        return mix.place(self._read(path, start, stop), lr, self.gain)

    def _read(self, path: Path, start: int, stop: int | None) -> Audio:
        try:
            data, _ = sf.read(path, start=start, stop=stop, dtype="float32", always_2d=True)
        except (OSError, RuntimeError, sf.LibsndfileError) as exc:
            raise CatalogError(
                f"audio of song {self.song_id}: {path} is missing or unreadable ({exc})"
            ) from exc
        return np.ascontiguousarray(data.T)


_CENTRE = np.ones(2, dtype=np.float32)
