"""Where "your audio" came from: catalogue audio keeps its song identity wherever it goes.

A stem shown in the Stems view, a preview, a part Demucs separated from a song, or the same
samples saved under another name all come back into the studio as the user's own audio file.
`AudioOrigins` recognises them by content (`audio.identity`: file bytes, decoded 16-bit PCM,
content-defined chunks of each channel), so the studio can verify and attribute them as the
references they are, whatever the file is called and wherever it was cut.

The index is a rebuildable SQLite file beside the catalogue (`audio-origins.sqlite`). Catalogue
songs are indexed once each (their stem files, their mix as stored or as the catalogue mixes it);
audio derived from a song (separated parts) is registered when it is made. Matches are exact, so
they are never coincidences; audio changed on the way (resampled, lossy, re-mixed) is for the
corroborative audit's fingerprints to find.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musicapp.audio.identity import (
    Chunk,
    chunk_digests,
    covered_frames,
    file_sha256,
    pcm16_variants,
    pcm_sha256,
    read_pcm16,
)
from musicapp.jobs import CancelToken, Progress, ProgressCallback, no_progress

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore

log = logging.getLogger(__name__)

MIN_MATCH_S = 0.25  # less identical audio than this is not called a match
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    song_id TEXT NOT NULL,
    stem TEXT NOT NULL,          -- '' for the song's mix
    origin TEXT NOT NULL,        -- how the audio came from the song, for messages
    fraction REAL NOT NULL DEFAULT 1.0  -- how much of this audio is the song's
);
CREATE TABLE IF NOT EXISTS chunks (digest BLOB NOT NULL, source INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_digest ON chunks (digest);
CREATE TABLE IF NOT EXISTS whole (digest TEXT NOT NULL, kind TEXT NOT NULL, source INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS whole_digest ON whole (digest);
CREATE TABLE IF NOT EXISTS indexed_songs (song_id TEXT PRIMARY KEY);
"""


@dataclass(frozen=True)
class OriginMatch:
    """One catalogue song found in the user's audio, and how much of it is that song's."""

    song_id: str
    stem: str  # '' when it is (part of) the song's mix
    origin: str  # e.g. "catalogue stem", "catalogue mix", "part separated by Demucs"
    how: str  # e.g. "the same file", "the same samples", "4.2 s of the same samples"
    fraction: float  # of the sounding audio in the user's file, 0..1

    def describe(self) -> str:
        what = f"the {self.stem} stem" if self.stem else "the mix"
        return f"{what} of song {self.song_id} ({self.origin}; {self.how})"


@dataclass(frozen=True)
class Identification:
    """What is known of one audio file's origin."""

    path: str
    matches: tuple[OriginMatch, ...]

    def by_song(self) -> dict[str, float]:
        """Fraction of the user's audio per catalogue song (at most 1 in all)."""
        out: dict[str, float] = {}
        for m in self.matches:
            out[m.song_id] = max(out.get(m.song_id, 0.0), m.fraction)
        total = sum(out.values())
        return {k: v / total for k, v in out.items()} if total > 1.0 else out


class AudioOrigins:
    """The index of catalogue-derived audio and the lookup of a file against it. Thread-safe."""

    def __init__(self, path: Path, catalog: CatalogStore) -> None:
        self.path = Path(path)
        self.catalog = catalog
        self._lock = threading.RLock()
        self._indexing = threading.Lock()
        self._conn = self._open()
        self._recent: OrderedDict[tuple[str, int, int], Identification] = OrderedDict()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            # A rebuildable index: a damaged one is set aside and built again.
            log.warning("audio origins index %s unusable (%s): rebuilding", self.path, exc)
            self.path.replace(self.path.with_suffix(".damaged"))
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
            conn.executescript(_SCHEMA)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- indexing -------------------------------------------------------------------------

    def pending(self) -> list[str]:
        """Catalogue songs with audio that are not indexed yet. Songs with audio are the
        folders of the catalogue's audio folder, so a million songs without audio (a synthetic
        catalogue) cost one directory listing, not a million queries."""
        folder = Path(self.catalog.audio_dir)
        with_audio = (
            sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
            if folder.is_dir()
            else []
        )
        with self._lock:
            have = {r[0] for r in self._conn.execute("SELECT song_id FROM indexed_songs")}
        return [sid for sid in with_audio if sid not in have]

    def index_pending(
        self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> int:
        """Index every catalogue song not indexed yet; returns how many were."""
        cancel = cancel or CancelToken()
        with self._indexing:  # one indexer at a time: the others find the work done
            todo = self.pending()
            for i, song_id in enumerate(todo):
                cancel.check()
                progress(Progress(i / max(len(todo), 1), "origins", f"indexing {song_id}"))
                self.index_song(song_id)
        return len(todo)

    def index_song(self, song_id: str) -> None:
        """Index a catalogue song's stored stem files and its mix (once)."""
        from musicapp.catalog.store import CatalogError

        song = self.catalog.song(song_id)
        if song is None:
            return
        entries: list[tuple[str, str, str, list[np.ndarray], list[str]]] = []
        try:
            for stem, path in self.catalog.audio_files(song_id).items():
                if not Path(path).is_file():
                    continue
                pcm, _ = read_pcm16(path)
                what = "catalogue stem" if stem else "catalogue mix"
                entries.append((stem, what, f"{song_id}:{stem}", [pcm], [file_sha256(path)]))
            if not self.catalog.has_own_mix(song_id) and entries:
                mix = self.catalog.load_audio(song_id)
                entries.append(("", "catalogue mix", f"{song_id}:", pcm16_variants(mix), []))
        except (CatalogError, OSError, RuntimeError) as exc:
            log.info("song %s: audio not indexed (%s)", song_id, exc)
            entries = []
        with self._lock, self._conn:
            for stem, origin, key, variants, files in entries:
                for v, pcm in enumerate(variants):
                    source = self._source(f"catalogue:{key}:{v}", song_id, stem, origin, 1.0)
                    self._add(source, chunk_digests(pcm), [pcm_sha256(pcm)], files)
            self._conn.execute("INSERT OR IGNORE INTO indexed_songs VALUES (?)", [song_id])

    def register(
        self,
        paths: Iterable[tuple[str, Path]],
        song_id: str,
        origin: str,
        fraction: float = 1.0,
    ) -> None:
        """Record audio files made from a song (stem name, path): separated parts, say."""
        for stem, path in paths:
            pcm, _ = read_pcm16(path)
            digest = file_sha256(path)
            with self._lock, self._conn:
                key = f"derived:{digest}:{song_id}"
                source = self._source(key, song_id, stem, origin, fraction)
                self._add(source, chunk_digests(pcm), [pcm_sha256(pcm)], [digest])
        with self._lock:
            self._recent.clear()

    def _source(self, key: str, song_id: str, stem: str, origin: str, fraction: float) -> int:
        row = self._conn.execute("SELECT id FROM sources WHERE key = ?", [key]).fetchone()
        if row is not None:
            self._conn.execute("DELETE FROM chunks WHERE source = ?", [row[0]])
            self._conn.execute("DELETE FROM whole WHERE source = ?", [row[0]])
            self._conn.execute(
                "UPDATE sources SET song_id = ?, stem = ?, origin = ?, fraction = ? WHERE id = ?",
                [song_id, stem, origin, fraction, row[0]],
            )
            return int(row[0])
        cur = self._conn.execute(
            "INSERT INTO sources (key, song_id, stem, origin, fraction) VALUES (?, ?, ?, ?, ?)",
            [key, song_id, stem, origin, fraction],
        )
        return int(cur.lastrowid or 0)

    def _add(self, source: int, chunks: list[Chunk], pcms: list[str], files: list[str]) -> None:
        if not chunks:  # silence: every silent file would look like every other
            pcms = []
        self._conn.executemany(
            "INSERT INTO chunks (digest, source) VALUES (?, ?)",
            ((c.digest, source) for c in {c.digest: c for c in chunks}.values()),
        )
        self._conn.executemany(
            "INSERT INTO whole (digest, kind, source) VALUES (?, ?, ?)",
            [*((d, "pcm", source) for d in pcms), *((d, "file", source) for d in files)],
        )

    # -- lookup ---------------------------------------------------------------------------

    def identify(self, path: str | Path, index_first: bool = True) -> Identification:
        """The catalogue songs whose audio is in the file, by exact content (cached per file
        path, size and modification time). `index_first` indexes songs not indexed yet first
        (what generating needs); a quick look (the window's live check) uses the index as it
        is."""
        path = Path(path)
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        if index_first:
            self.index_pending()
        complete = index_first or not self.pending()  # a partial answer is not kept
        found = Identification(str(path), tuple(self._matches(path)))
        with self._lock:
            if complete:
                self._recent[key] = found
            while len(self._recent) > 32:
                self._recent.popitem(last=False)
        return found

    def _matches(self, path: Path) -> list[OriginMatch]:
        stored = self._stored_file(path)
        if stored is not None:
            return [stored]
        pcm, rate = read_pcm16(path)
        whole = self._lookup_whole({pcm_sha256(pcm): "pcm"})
        whole.update(self._lookup_whole({file_sha256(path): "file"}))  # the closer tie wins
        if whole:
            out = []
            for source, kind in whole.items():
                song_id, stem, origin, fraction = self._describe(source)
                how = "the same file" if kind == "file" else "the same samples in another file"
                out.append(OriginMatch(song_id, stem, origin, how, fraction))
            return _best_per_song(out)
        chunks = chunk_digests(pcm)
        sounding = covered_frames(chunks, len(pcm))
        if not sounding:
            return []
        by_source: dict[int, list[Chunk]] = {}
        digests = list({c.digest: c for c in chunks})
        hits: dict[bytes, list[int]] = {}
        with self._lock:
            for i in range(0, len(digests), 500):
                part = digests[i : i + 500]
                marks = ",".join("?" * len(part))
                for digest, source in self._conn.execute(
                    f"SELECT digest, source FROM chunks WHERE digest IN ({marks})", part
                ):
                    hits.setdefault(digest, []).append(source)
        for c in chunks:
            for source in hits.get(c.digest, ()):
                by_source.setdefault(source, []).append(c)
        # Per song: the frames any of its sources covers (a stem and the mix can both match).
        per_song: dict[str, tuple[list[Chunk], int]] = {}
        for source, matched in by_source.items():
            song_id, _stem, _origin, _fraction = self._describe(source)
            have = per_song.get(song_id, ([], source))[0]
            per_song[song_id] = (have + matched, source)
        out = []
        for song_id, (matched, source) in per_song.items():
            frames = covered_frames(matched, len(pcm))
            if frames < MIN_MATCH_S * rate:
                continue
            _sid, stem, origin, fraction = self._describe(source)
            share = min(1.0, frames / sounding) * fraction
            how = f"{frames / rate:.1f} s of the same samples"
            out.append(OriginMatch(song_id, stem, origin, how, share))
        return sorted(out, key=lambda m: -m.fraction)

    def _stored_file(self, path: Path) -> OriginMatch | None:
        """A file inside the catalogue's own audio folder is that song's, whatever it holds."""
        try:
            rel = Path(path).resolve().relative_to(Path(self.catalog.audio_dir).resolve())
        except ValueError:
            return None
        if len(rel.parts) < 2 or self.catalog.song(rel.parts[0]) is None:
            return None
        stem = rel.parts[-1].rsplit(".", 1)[0]
        files = self.catalog.audio_files(rel.parts[0])
        what = "catalogue stem" if stem in files and stem else "catalogue audio"
        return OriginMatch(rel.parts[0], stem if stem in files else "", what, "the same file", 1.0)

    def _lookup_whole(self, digests: dict[str, str]) -> dict[int, str]:
        with self._lock:
            out: dict[int, str] = {}
            for digest, kind in digests.items():
                for (source,) in self._conn.execute(
                    "SELECT source FROM whole WHERE digest = ? AND kind = ?", [digest, kind]
                ):
                    out[int(source)] = kind
        return out

    def _describe(self, source: int) -> tuple[str, str, str, float]:
        with self._lock:
            row = self._conn.execute(
                "SELECT song_id, stem, origin, fraction FROM sources WHERE id = ?", [source]
            ).fetchone()
        return str(row[0]), str(row[1]), str(row[2]), float(row[3])


def _best_per_song(matches: list[OriginMatch]) -> list[OriginMatch]:
    best: dict[str, OriginMatch] = {}
    for m in matches:
        if m.song_id not in best or m.fraction > best[m.song_id].fraction:
            best[m.song_id] = m
    return sorted(best.values(), key=lambda m: -m.fraction)
