"""The audit's index on disk: ``<catalogue>-audit.sqlite`` beside the catalogue.

Per song: the landmark hashes of its mix and of each stem (an item each), the spectral peaks
they were made from (to verify a match), and the embedding
of a window every few seconds. Rebuildable from the catalogue at any time; a damaged file is
moved aside and rebuilt, never a reason to stop the app.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from musicapp.attribution.landmarks import Hashes, Peaks

log = logging.getLogger(__name__)

SCHEMA = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS songs (song_id TEXT PRIMARY KEY, duration_s REAL NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    song_id TEXT NOT NULL, item TEXT NOT NULL, keys BLOB NOT NULL, times BLOB NOT NULL,
    PRIMARY KEY (song_id, item));
CREATE TABLE IF NOT EXISTS peaks (
    song_id TEXT NOT NULL, item TEXT NOT NULL, times BLOB NOT NULL, bins BLOB NOT NULL,
    PRIMARY KEY (song_id, item));
CREATE TABLE IF NOT EXISTS windows (
    song_id TEXT NOT NULL, centre REAL NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (song_id, centre));
"""


@dataclass(frozen=True)
class SongIndex:
    """What the index holds for one song."""

    song_id: str
    duration_s: float
    items: dict[str, Hashes]  # "mix" and each stem's name
    centres: list[float]
    vectors: NDArray[np.float32]  # raw (not standardised) embeddings, one per centre


class AuditStore:
    """SQLite file of the audit's per-song index (thread-safe: one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, check_same_thread=False)
            db.executescript(_TABLES)
            db.execute("SELECT count(*) FROM songs").fetchone()
            return db
        except sqlite3.DatabaseError as e:
            aside = self.path.with_name(self.path.name + ".damaged")
            log.warning(
                "audit index %s is damaged (%s): moved to %s and rebuilt", self.path, e, aside
            )
            self.path.replace(aside)
            db = sqlite3.connect(self.path, check_same_thread=False)
            db.executescript(_TABLES)
            return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def song_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT song_id FROM songs")}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM songs").fetchone()[0])

    def put(self, song: SongIndex) -> None:
        """Add (or replace) one song, all of it or nothing."""
        with self._lock, self._db:
            self._delete(song.song_id)
            self._db.execute("INSERT INTO songs VALUES (?, ?)", (song.song_id, song.duration_s))
            self._db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?)",
                [
                    (
                        song.song_id,
                        name,
                        h.keys.astype("<i8").tobytes(),
                        h.times.astype("<f4").tobytes(),
                    )
                    for name, h in song.items.items()
                ],
            )
            self._db.executemany(
                "INSERT INTO peaks VALUES (?, ?, ?, ?)",
                [
                    (
                        song.song_id,
                        name,
                        h.peaks.times.astype("<i4").tobytes(),
                        h.peaks.bins.astype("<i2").tobytes(),
                    )
                    for name, h in song.items.items()
                    if h.peaks is not None
                ],
            )
            self._db.executemany(
                "INSERT INTO windows VALUES (?, ?, ?)",
                [
                    (song.song_id, float(c), np.asarray(v, "<f4").tobytes())
                    for c, v in zip(song.centres, song.vectors, strict=True)
                ],
            )

    def _delete(self, song_id: str) -> None:
        for table in ("songs", "items", "peaks", "windows"):
            self._db.execute(f"DELETE FROM {table} WHERE song_id = ?", (song_id,))

    def remove(self, song_ids: set[str]) -> None:
        with self._lock, self._db:
            for song_id in song_ids:
                self._delete(song_id)

    def clear(self) -> None:
        """Drop every song (the embedder or the hashing changed): all are indexed again."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM windows")
            self._db.execute("DELETE FROM songs")
            self._db.execute("DELETE FROM items")
            self._db.execute("DELETE FROM peaks")

    def items(self) -> Iterator[tuple[str, str, Hashes]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT i.song_id, i.item, i.keys, i.times, p.times, p.bins FROM items i"
                " LEFT JOIN peaks p ON p.song_id = i.song_id AND p.item = i.item"
                " ORDER BY i.song_id, i.item"
            ).fetchall()
        for song_id, item, keys, times, p_times, p_bins in rows:
            p = None
            if p_times is not None:
                p = Peaks(np.frombuffer(p_times, "<i4"), np.frombuffer(p_bins, "<i2"))
            yield song_id, item, Hashes(np.frombuffer(keys, "<i8"), np.frombuffer(times, "<f4"), p)

    def windows(self) -> tuple[list[str], NDArray[np.float32], NDArray[np.float32]]:
        """(song id, centre, raw vector) of every window."""
        with self._lock:
            rows = self._db.execute(
                "SELECT song_id, centre, vector FROM windows ORDER BY song_id, centre"
            ).fetchall()
        if not rows:
            return [], np.zeros(0, np.float32), np.zeros((0, 0), np.float32)
        return (
            [r[0] for r in rows],
            np.array([r[1] for r in rows], np.float32),
            np.stack([np.frombuffer(r[2], "<f4") for r in rows]),
        )

    def durations(self) -> dict[str, float]:
        with self._lock:
            return {r[0]: float(r[1]) for r in self._db.execute("SELECT * FROM songs")}
