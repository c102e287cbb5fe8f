"""The selection store: each song's measured descriptors and embeddings, its category labels and
the user's likes, in one SQLite file beside the catalogue (``<catalogue>-selection.sqlite``).

Work is cached by content: descriptors by the sha256 of the song's audio files (a re-imported or
renamed song with the same audio is not analysed again), embeddings by (model key, sha256 of
what was embedded: the audio, or the description text). The file is rebuildable from the
catalogue; nothing in it is a consent or money fact.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from musicapp.core import InvalidInput

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS descriptors (
    audio_sha256 TEXT NOT NULL, version INTEGER NOT NULL,
    tempo_bpm REAL NOT NULL, minor REAL NOT NULL, loudness_db REAL NOT NULL,
    brightness_hz REAL NOT NULL, density REAL NOT NULL, features BLOB NOT NULL,
    PRIMARY KEY (audio_sha256, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vectors (
    model_key TEXT NOT NULL, content_sha256 TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model_key, content_sha256)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS songs (
    vid INTEGER PRIMARY KEY, song_id TEXT NOT NULL UNIQUE,
    audio_sha256 TEXT NOT NULL, description TEXT NOT NULL, description_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS labels (
    song_id TEXT NOT NULL, facet TEXT NOT NULL, label TEXT NOT NULL, score REAL NOT NULL,
    source TEXT NOT NULL, PRIMARY KEY (song_id, facet, label)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_by_label ON labels (facet, label);
CREATE TABLE IF NOT EXISTS likes (song_id TEXT PRIMARY KEY, liked_at TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- The descriptions' words, for the lexical half of a prompt's ranking (engine.lexical), kept in
-- step with `songs` by triggers (FTS5's external-content pattern).
CREATE VIRTUAL TABLE IF NOT EXISTS song_text USING fts5(
    description, content='songs', content_rowid='vid', tokenize='porter unicode61'
);
CREATE VIRTUAL TABLE IF NOT EXISTS song_text_terms USING fts5vocab(song_text, 'row');
CREATE TRIGGER IF NOT EXISTS song_text_insert AFTER INSERT ON songs BEGIN
    INSERT INTO song_text (rowid, description) VALUES (new.vid, new.description);
END;
CREATE TRIGGER IF NOT EXISTS song_text_delete AFTER DELETE ON songs BEGIN
    INSERT INTO song_text (song_text, rowid, description)
        VALUES ('delete', old.vid, old.description);
END;
CREATE TRIGGER IF NOT EXISTS song_text_update AFTER UPDATE OF description ON songs BEGIN
    INSERT INTO song_text (song_text, rowid, description)
        VALUES ('delete', old.vid, old.description);
    INSERT INTO song_text (rowid, description) VALUES (new.vid, new.description);
END;
"""


def _stem(word: str) -> str:
    """The Porter stem FTS5 indexed `word` under (for its document count)."""
    return _porter(word.lower())


def _porter(word: str) -> str:
    global _stemmer
    with _stem_lock:
        if _stemmer is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61')")
            db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
            _stemmer = db
        _stemmer.execute("DELETE FROM t")
        _stemmer.execute("INSERT INTO t VALUES (?)", (word,))
        row = _stemmer.execute("SELECT term FROM v").fetchone()
    return str(row[0]) if row else word


_stemmer: sqlite3.Connection | None = None
_stem_lock = threading.Lock()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def files_sha256(paths: Iterable[Path]) -> str:
    """One digest over a song's audio files, in name order (the mix, or its stems)."""
    h = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        h.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


class SelectionStore:
    """Thread-safe (one connection under a lock), like the catalogue store."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self.set_aside: Path | None = None  # where a damaged file was moved, if one was
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            # Everything here but the likes is rebuilt from the catalogue: a damaged file is
            # kept aside (for the likes, or a look) and a new one started, so one bad cache
            # never stops the app.
            self.set_aside = self.path.with_name(f"{self.path.name}.damaged")
            log.warning("%s: damaged (%s); moved to %s, rebuilding", self.path, exc, self.set_aside)
            for suffix in ("", "-wal", "-shm"):
                part = self.path.with_name(self.path.name + suffix)
                if part.exists():
                    os.replace(part, self.set_aside.with_name(self.set_aside.name + suffix))
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as again:
                raise InvalidInput(
                    f"{self.path}: the selection index cannot be created ({again})",
                    path=str(self.path),
                ) from again

    def _open(self) -> sqlite3.Connection:
        # A file: URI, so that the catalogue can be attached read-only by one too
        # (usable_masks) whatever the SQLite build's default for URIs.
        db = sqlite3.connect(
            self.path.resolve().as_uri(), check_same_thread=False, isolation_level=None, uri=True
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            if db.execute("SELECT 1 FROM meta WHERE key = 'song_text'").fetchone() is None:
                # a store from before the word index
                db.execute("INSERT INTO song_text (song_text) VALUES ('rebuild')")
                db.execute("INSERT INTO meta VALUES ('song_text', '1')")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- words -------------------------------------------------------------------------------

    def lexical(
        self, words: Sequence[str], limit: int, max_share: float
    ) -> list[tuple[int, float]]:
        """(vid, bm25 score, higher is better) of the songs whose descriptions hold any of
        `words`, best first; words in more than `max_share` of the songs are left out (they say
        little, and bm25 over every song holding "music" is what is slow at a million)."""
        with self._lock:
            total = self._db.execute("SELECT count(*) FROM songs").fetchone()[0]
            if not total:
                return []
            terms = []
            for word in dict.fromkeys(w.lower() for w in words):
                row = self._db.execute(
                    "SELECT doc FROM song_text_terms WHERE term = ?", (_stem(word),)
                ).fetchone()
                # At most 20,000 songs per word: bm25 scores every match.
                if row is not None and row[0] <= max(1, min(max_share * total, 20_000)):
                    terms.append(word)
            if not terms:
                return []
            query = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
            rows = self._db.execute(
                "SELECT rowid, -bm25(song_text) FROM song_text WHERE song_text MATCH ? "
                "ORDER BY rank LIMIT ?",
                (query, limit),
            ).fetchall()
        return [(int(v), float(score)) for v, score in rows]

    # -- bookkeeping ---------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def revision(self) -> str:
        """Changes whenever songs or vectors are written: a saved index built at another
        revision is stale. (Row counts and the newest ids; cheap, indexed.)"""
        with self._lock:
            songs = self._db.execute("SELECT count(*), coalesce(max(vid), 0) FROM songs").fetchone()
            vectors = self._db.execute("SELECT count(*) FROM vectors").fetchone()
            changed = self.meta("songs_changed") or "0"
        return f"{songs[0]}.{songs[1]}.{vectors[0]}.{changed}"

    # -- descriptors and vectors, by content ---------------------------------------------------

    def descriptors(
        self, audio_sha256: str, version: int
    ) -> tuple[tuple[float, float, float, float, float], np.ndarray] | None:
        """(tempo, minor, loudness, brightness, density) and the raw features, if measured."""
        with self._lock:
            row = self._db.execute(
                "SELECT tempo_bpm, minor, loudness_db, brightness_hz, density, features "
                "FROM descriptors WHERE audio_sha256 = ? AND version = ?",
                (audio_sha256, version),
            ).fetchone()
        if row is None:
            return None
        values = (float(row[0]), float(row[1]), float(row[2]), float(row[3]), float(row[4]))
        return values, np.frombuffer(row[5], dtype=np.float32).copy()

    def put_descriptors(
        self, audio_sha256: str, version: int, values: tuple[float, ...], features: np.ndarray
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO descriptors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (audio_sha256, version, *values, _blob(features)),
            )

    def vector(self, model_key: str, content_sha256: str) -> np.ndarray | None:
        with self._lock:
            row = self._db.execute(
                "SELECT vector FROM vectors WHERE model_key = ? AND content_sha256 = ?",
                (model_key, content_sha256),
            ).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.float32).copy()

    def put_vectors(self, model_key: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model_key, sha, _blob(v)) for sha, v in items],
            )

    # -- songs -------------------------------------------------------------------------------

    def put_song(self, song_id: str, audio_sha256: str, description: str) -> int:
        """Record (or update) a song's audio digest and description; its stable vector id."""
        with self._lock:
            self._db.execute(
                "INSERT INTO songs (song_id, audio_sha256, description, description_sha256) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (song_id) DO UPDATE SET "
                "audio_sha256 = excluded.audio_sha256, description = excluded.description, "
                "description_sha256 = excluded.description_sha256",
                (song_id, audio_sha256, description, text_sha256(description)),
            )
            row = self._db.execute("SELECT vid FROM songs WHERE song_id = ?", (song_id,)).fetchone()
            self._db.execute(
                "INSERT INTO meta VALUES ('songs_changed', '1') ON CONFLICT (key) DO UPDATE SET "
                "value = CAST(value AS INTEGER) + 1"
            )
        return int(row[0])

    def song_row(self, song_id: str) -> tuple[int, str, str, str] | None:
        """(vid, audio sha256, description, description sha256) of a recorded song."""
        with self._lock:
            row = self._db.execute(
                "SELECT vid, audio_sha256, description, description_sha256 FROM songs "
                "WHERE song_id = ?",
                (song_id,),
            ).fetchone()
        return None if row is None else (int(row[0]), row[1], row[2], row[3])

    def recorded_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT song_id FROM songs")}

    def song_ids(self, vids: Iterable[int]) -> dict[int, str]:
        wanted = [int(v) for v in vids]
        out: dict[int, str] = {}
        with self._lock:
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                marks = ",".join("?" * len(chunk))
                out.update(
                    self._db.execute(
                        f"SELECT vid, song_id FROM songs WHERE vid IN ({marks})", chunk
                    ).fetchall()
                )
        return out

    def vids(self, song_ids: Iterable[str]) -> dict[str, int]:
        """The vector ids of recorded songs (ids not recorded are left out)."""
        wanted = list(dict.fromkeys(song_ids))
        out: dict[str, int] = {}
        with self._lock:
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                marks = ",".join("?" * len(chunk))
                out.update(
                    (sid, int(vid))
                    for sid, vid in self._db.execute(
                        f"SELECT song_id, vid FROM songs WHERE song_id IN ({marks})", chunk
                    )
                )
        return out

    def usable_masks(self, catalog_path: Path) -> tuple[np.ndarray, np.ndarray]:
        """(vids, "usable for" masks) of the recorded songs, joined in SQLite with the
        catalogue's usable table (attached read-only for the query), so a million songs never
        pass through a Python dict."""
        uri = f"{Path(catalog_path).resolve().as_uri()}?mode=ro"
        with self._lock:
            self._db.execute("ATTACH DATABASE ? AS cat", (uri,))
            try:
                rows = self._db.execute(
                    "SELECT s.vid, u.mask FROM songs s JOIN cat.usable u ON u.song_id = s.song_id"
                ).fetchall()
            finally:
                self._db.execute("DETACH DATABASE cat")
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        array = np.array(rows, dtype=np.int64)
        return array[:, 0], array[:, 1]

    def song_vectors(self, model_key: str, by: str) -> tuple[np.ndarray, np.ndarray]:
        """(vids, vectors) of every recorded song that has a `model_key` vector of its audio
        (`by="audio"`) or of its description (`by="description"`)."""
        column = {"audio": "audio_sha256", "description": "description_sha256"}[by]
        with self._lock:
            rows = self._db.execute(
                f"SELECT s.vid, v.vector FROM songs s JOIN vectors v "
                f"ON v.model_key = ? AND v.content_sha256 = s.{column} ORDER BY s.vid",
                (model_key,),
            ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        vids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return vids, vectors

    def song_features(self, version: int) -> tuple[np.ndarray, np.ndarray]:
        """(vids, raw feature rows) of every recorded song whose descriptors are measured."""
        with self._lock:
            rows = self._db.execute(
                "SELECT s.vid, d.features FROM songs s JOIN descriptors d "
                "ON d.audio_sha256 = s.audio_sha256 AND d.version = ? ORDER BY s.vid",
                (version,),
            ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return (
            np.array([r[0] for r in rows], dtype=np.int64),
            np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows]),
        )

    def songs_with(self, model_key: str, by: str) -> set[str]:
        """Ids of the recorded songs that have a `model_key` vector (see song_vectors)."""
        column = {"audio": "audio_sha256", "description": "description_sha256"}[by]
        with self._lock:
            return {
                r[0]
                for r in self._db.execute(
                    f"SELECT s.song_id FROM songs s JOIN vectors v "
                    f"ON v.model_key = ? AND v.content_sha256 = s.{column}",
                    (model_key,),
                )
            }

    def count_with(self, model_key: str, by: str) -> int:
        column = {"audio": "audio_sha256", "description": "description_sha256"}[by]
        with self._lock:
            row = self._db.execute(
                f"SELECT count(*) FROM songs s JOIN vectors v "
                f"ON v.model_key = ? AND v.content_sha256 = s.{column}",
                (model_key,),
            ).fetchone()
        return int(row[0])

    # -- labels and likes ----------------------------------------------------------------------

    def put_labels(self, rows: Iterable[tuple[str, str, str, float, str]]) -> None:
        """(song_id, facet, label, score, source) rows; a song's labels are replaced whole."""
        rows = list(rows)
        with self._lock, self._db:
            self._db.execute("BEGIN")
            for sid in {r[0] for r in rows}:
                self._db.execute("DELETE FROM labels WHERE song_id = ?", (sid,))
            self._db.executemany("INSERT INTO labels VALUES (?, ?, ?, ?, ?)", rows)

    def labels(self, song_id: str) -> dict[str, tuple[str, ...]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT facet, label FROM labels WHERE song_id = ? ORDER BY facet, score DESC",
                (song_id,),
            ).fetchall()
        out: dict[str, list[str]] = {}
        for facet, label in rows:
            out.setdefault(facet, []).append(label)
        return {k: tuple(v) for k, v in out.items()}

    def label_counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT facet, label, count(*) FROM labels GROUP BY facet, label"
            ).fetchall()
        out: dict[str, dict[str, int]] = {}
        for facet, label, n in rows:
            out.setdefault(facet, {})[label] = int(n)
        return out

    def set_like(self, song_id: str, liked: bool, at: str) -> None:
        with self._lock:
            if liked:
                self._db.execute("INSERT OR IGNORE INTO likes VALUES (?, ?)", (song_id, at))
            else:
                self._db.execute("DELETE FROM likes WHERE song_id = ?", (song_id,))

    def likes(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT song_id FROM likes ORDER BY liked_at")]
