"""The catalogue store: songs, rights holders, consent records and stems, in SQLite and FLAC files."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from sqlite_utils import Database
from sqlite_utils.db import Table

from musicapp.catalog import hierarchy as _hier
from musicapp.catalog import migrations, mix, rows
from musicapp.catalog.migrations import FTS_COLUMNS
from musicapp.catalog.mix import Audio
from musicapp.catalog.search import (
    SearchFilters,
    Suggestion,
    browse_query,
    fts_row,
    tier_queries,
)
from musicapp.catalog.stem_files import read_new_stems
from musicapp.config import SAMPLE_RATE
from musicapp.core import (
    ConsentRecord,
    InvalidInput,
    RightsHolder,
    Song,
    Split,
    Stem,
    TimeRange,
    usable_mask,
)

# Files up to this size get the full page check on open (see _open).
FULL_CHECK_MAX_BYTES = 256 * 1024 * 1024
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SONG_ORDER = "genre, artist, album, title, id"
_SEP = _hier.SEP


class CatalogError(InvalidInput):
    """The catalogue file or its audio cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class TreeNode:
    """One row of the genre → artist → album → song tree.

    A song leaf has song_id set, count 1, and a path that ends with the song id (titles can repeat).
    """

    label: str
    count: int
    path: tuple[str, ...]
    song_id: str | None = None


class CatalogStore:
    """The songs of the inference set, their rights holders, consent records and stems.

    Safe to share between threads: one connection, used under a lock.
    """

    def __init__(self, path: Path, audio_dir: Path) -> None:
        self.path = Path(path)
        self.audio_dir = Path(audio_dir)
        self._lock = threading.RLock()
        self._check_file()
        try:
            self.audio_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
        except (OSError, sqlite3.Error) as exc:
            raise CatalogError(f"catalogue {self.path}: cannot be opened ({exc})") from exc
        self._db = Database(conn)
        try:
            self._open()
        except CatalogError:
            conn.close()
            raise
        except sqlite3.OperationalError as exc:  # read-only, locked, disk full
            conn.close()
            raise CatalogError(f"catalogue {self.path}: cannot be used ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CatalogError(_damaged(self.path, str(exc))) from exc

    def _check_file(self) -> None:
        if self.path.is_dir():
            raise CatalogError(f"catalogue {self.path}: is a folder, not a catalogue file")
        if not self.path.exists():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CatalogError(
                    f"catalogue {self.path}: cannot create its folder ({exc})"
                ) from exc
            return
        try:
            with self.path.open("rb") as f:
                head = f.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise CatalogError(f"catalogue {self.path}: cannot be read ({exc})") from exc
        if head and head != _SQLITE_MAGIC:
            raise CatalogError(f"catalogue {self.path}: is not a SQLite database")

    def _open(self) -> None:
        db = self._db
        # A full page check reads the whole file: instant for the demo, about 3 s for a
        # million songs, which would hold up the window's start. Large catalogues get the
        # cheap check here (the schema must read) and the full one on demand.
        if self.path.exists() and self.path.stat().st_size <= FULL_CHECK_MAX_BYTES:
            self.check_integrity()
        else:
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        found = migrations.schema_version(db)
        if found > migrations.LATEST_VERSION:
            raise CatalogError(
                f"catalogue {self.path}: written by a newer musicapp (schema version {found}, "
                f"this version reads up to {migrations.LATEST_VERSION})"
            )
        db.execute("PRAGMA foreign_keys = ON")
        db.enable_wal()
        migrations.migrate(db)
        self._remove_stale_staging()

    def _remove_stale_staging(self) -> None:
        # Left by an add_song or a demo build that crashed; waiting an hour keeps clear of one
        # still running in another process.
        cutoff = time.time() - 3600
        for pattern in (".incoming-*", ".demo-build-*"):
            for d in self.audio_dir.glob(pattern):
                if d.stat().st_mtime < cutoff:
                    shutil.rmtree(d, ignore_errors=True)

    # -- lifetime -------------------------------------------------------------------------

    def check_integrity(self) -> None:
        """Read every page of the file; raise CatalogError naming the first damage found."""
        check = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            detail = [line for line in check.splitlines() if not line.startswith("***")]
            raise CatalogError(_damaged(self.path, detail[0] if detail else check))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> CatalogStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return migrations.schema_version(self._db)

    # -- songs ----------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM songs").fetchone()[0])

    def is_empty(self) -> bool:
        return self.count() == 0

    def song(self, song_id: str) -> Song | None:
        return self.songs([song_id]).get(song_id)

    def songs(self, ids: Iterable[str]) -> dict[str, Song]:
        """The songs with these ids that exist, by id (unknown ids are left out)."""
        wanted = list(dict.fromkeys(ids))
        out: dict[str, Song] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            out.update((s.id, s) for s in self._load(f"WHERE id IN ({marks})", chunk))
        return out

    def all_songs(self) -> list[Song]:
        """Every song, in tree order (genre, artist, album, title)."""
        return self._load("", [])

    def _load(self, where: str, params: list[Any]) -> list[Song]:
        with self._lock:
            found = list(
                self._db.query(f"SELECT * FROM songs {where} ORDER BY {_SONG_ORDER}", params)
            )
            if not found:
                return []
            ids = [r["id"] for r in found]
            marks = ",".join("?" * len(ids))
            splits: dict[str, list[Split]] = {i: [] for i in ids}
            for r in self._db.query(
                "SELECT s.song_id, s.share, h.id, h.name, h.kind FROM splits s "
                f"JOIN holders h ON h.id = s.holder_id WHERE s.song_id IN ({marks}) "
                "ORDER BY s.song_id, s.position",
                ids,
            ):
                holder = RightsHolder(r["id"], r["name"], r["kind"])
                splits[r["song_id"]].append(Split(holder, r["share"]))
            stems: dict[str, list[Stem]] = {i: [] for i in ids}
            for r in self._db.query(
                f"SELECT * FROM stems WHERE song_id IN ({marks}) ORDER BY song_id, position", ids
            ):
                stems[r["song_id"]].append(Stem(r["name"], r["instrument"], r["family"], r["role"]))
        return [rows.song_from_row(r, tuple(splits[r["id"]]), tuple(stems[r["id"]])) for r in found]

    def search(
        self, text: str, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[Song]:
        """Songs matching every word of `text` (the last word as a prefix), best match first,
        narrowed by `filters`; with no words typed, the songs passing active filters.

        Titles that start with the text come first. Large match sets are ranked from their
        first search.CANDIDATES matches only, which keeps type-ahead fast at a million songs
        (search.candidate_queries says why).
        """
        ids = [row[0] for row in self._ranked(text, limit, filters)]
        found = self.songs(ids)
        return [found[i] for i in ids if i in found]

    def suggest(
        self, text: str, limit: int = 10, filters: SearchFilters | None = None
    ) -> list[Suggestion]:
        """Completions for the search box, ranked like search(), without loading the songs."""
        return [Suggestion(*row[:3]) for row in self._ranked(text, limit, filters)]

    def _ranked(
        self, text: str, limit: int, filters: SearchFilters | None
    ) -> list[tuple[str, ...]]:
        """(song_id, title, artist) of the best `limit` matches: search.tier_queries in order."""
        if limit <= 0:
            return []
        queries = tier_queries(text, limit, filters)
        if not queries and filters is not None and filters.active:
            queries = [browse_query(filters, limit)]
        found: dict[str, tuple[str, ...]] = {}
        with self._lock:
            if filters is not None and (filters.level is not None or filters.use is not None):
                self._refresh_due_usable()
            for sql, params in queries:
                for row in self._db.execute(sql, params):
                    found.setdefault(row[0], tuple(row))
                if len(found) >= limit:
                    break
        return list(found.values())[:limit]

    def filter_choices(self) -> dict[str, list[str]]:
        """What the search filters can choose from: genres, eras and instrument families."""
        with self._lock:
            return {
                "genre": self._distinct_labels(
                    "tree_counts", "label", "hierarchy = 'genre' AND parent = ''"
                ),
                "era": self._distinct_labels("songs", "era", "era != ''"),
                "instrument": self._distinct_labels(
                    "tree_counts", "label", "hierarchy = 'instrument' AND parent = ''"
                ),
            }

    def _distinct_labels(self, table: str, col: str, where: str) -> list[str]:
        found = self._db.execute(
            f"SELECT DISTINCT {col} FROM {table} WHERE {where} ORDER BY {col} COLLATE NOCASE"
        )
        return [r[0] for r in found]

    def _refresh_usable(self, song_ids: list[str]) -> None:
        """Recompute the songs' consent masks for the "usable for" filter (migrations._v_usable)."""
        now = datetime.now(UTC)
        songs = self.songs(song_ids)
        by_song: dict[str, list[ConsentRecord]] = {i: [] for i in songs}
        for record in self.consent_records(list(songs)):
            by_song[record.song_id].append(record)
        rows_ = []
        for sid, song in songs.items():
            mask, recheck = usable_mask(song, by_song[sid], now)
            rows_.append(
                (sid, mask, None if recheck is None else recheck.astimezone(UTC).isoformat())
            )
        self._db.conn.executemany(
            "INSERT OR REPLACE INTO usable (song_id, mask, recheck_at) VALUES (?, ?, ?)", rows_
        )

    def _refresh_due_usable(self) -> None:
        """Recompute masks whose recheck time has come: a consent version took effect or a
        revocation date passed since they were computed."""
        now = datetime.now(UTC).isoformat()
        due = [
            r[0]
            for r in self._db.execute(
                "SELECT song_id FROM usable WHERE recheck_at IS NOT NULL AND recheck_at <= ?", [now]
            )
        ]
        if due:
            with self._db.atomic():
                for chunk in _chunks(due, 500):
                    self._refresh_usable(chunk)

    def hierarchies(self) -> list[tuple[str, str]]:
        """The ways to browse, as (key for children(), label for the user)."""
        return [(h.key, h.label) for h in _hier.HIERARCHIES]

    def children(
        self,
        path: tuple[str, ...],
        hierarchy: str = "genre",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TreeNode]:
        """One page of the nodes under `path` in a hierarchy, by label (songs by title).

        Counts are songs (for "instrument", a song counts once under each of its instruments).
        A missing genre, year, country, ... is the node "Unknown".
        """
        h = _hierarchy(hierarchy)
        depth = len(path)
        page = [-1 if limit is None else max(limit, 0), max(offset, 0)]
        with self._lock:
            if depth < len(h.levels):
                found = self._db.execute(
                    "SELECT label, n FROM tree_counts WHERE hierarchy = ? AND parent = ? "
                    "ORDER BY label COLLATE NOCASE, label LIMIT ? OFFSET ?",
                    [h.key, _SEP.join(path), *page],
                ).fetchall()
                return [TreeNode(label, n, (*path, label)) for label, n in found]
            if depth > len(h.levels):
                return []
            where, params = _hier.leaf_where(h, path)
            key = "song_id" if h.source == "song_instruments" else "id"
            found = self._db.execute(
                f"SELECT {key}, title FROM {h.source} WHERE {where} "
                f"ORDER BY title COLLATE NOCASE, {key} LIMIT ? OFFSET ?",
                [*params, *page],
            ).fetchall()
        return [TreeNode(title, 1, (*path, sid), sid) for sid, title in found]

    def bulk_insert(
        self,
        holders: Iterable[tuple[Any, ...]],
        songs: Iterable[dict[str, Any]],
        splits: Iterable[tuple[Any, ...]],
        stems: Iterable[tuple[Any, ...]],
        search_rows: Iterable[dict[str, str]],
    ) -> None:
        """Insert many new songs at once, in one transaction (synthetic catalogues, imports).

        No audio: load_audio of these songs raises CatalogError naming the missing file.
        Rows are (id, name, kind), song_row()-shaped dicts, (song_id, holder_id, share,
        position), (song_id, name, instrument, family, role, position), fts_row()-shaped dicts.
        The tree's counts are rebuilt once at the end rather than by the per-row triggers.
        """
        song_cols = None
        with self._lock, self._db.atomic():
            conn = self._db.conn
            _hier.drop_triggers(self._db)
            conn.executemany("INSERT INTO holders (id, name, kind) VALUES (?, ?, ?)", holders)
            it = iter(songs)
            first = next(it, None)
            if first is not None:
                song_cols = list(first)
                marks = ", ".join(f":{c}" for c in song_cols)
                conn.executemany(
                    f"INSERT INTO songs ({', '.join(song_cols)}) VALUES ({marks})",
                    itertools.chain([first], it),
                )
            conn.executemany(
                "INSERT INTO splits (song_id, holder_id, share, position) VALUES (?, ?, ?, ?)",
                splits,
            )
            conn.executemany(
                "INSERT INTO stems (song_id, name, instrument, family, role, position) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                stems,
            )
            cols = ", ".join(FTS_COLUMNS)
            marks = ", ".join(f":{c}" for c in FTS_COLUMNS)
            conn.executemany(f"INSERT INTO songs_fts ({cols}) VALUES ({marks})", search_rows)
            _hier.rebuild(self._db)
            _hier.create_triggers(self._db)
            conn.execute("INSERT INTO songs_fts (songs_fts) VALUES ('optimize')")

    def add_song(
        self,
        song: Song,
        stem_files: dict[str, Path],
        consent: Iterable[ConsentRecord] = (),
        *,
        source: tuple[str, str] | None = None,
    ) -> None:
        """Add a song, its stems (mono WAV or FLAC at 32 kHz) and consent; all of it or nothing.

        The stems are stored as FLAC under audio_dir/<song id>/. The stored duration is the
        stems' length, whatever song.duration_s says. `source` (path, content hash) records the
        imported file the song came from, in the same transaction.
        """
        if self.song(song.id) is not None:
            raise InvalidInput(f"song {song.id} is already in the catalogue")
        tracks = read_new_stems(song, stem_files)
        records = list(consent)
        n = min(len(t) for t in tracks)
        gain = mix.peak_safe_gain(mix.mixdown(tracks, mix.stereo_gains(song.stems)))
        staging = Path(tempfile.mkdtemp(prefix=f".incoming-{song.id}-", dir=self.audio_dir))
        final = self.audio_dir / song.id
        try:
            for stem, track in zip(song.stems, tracks, strict=True):
                # Clipped: libsndfile would wrap samples beyond full scale around.
                sf.write(
                    staging / f"{stem.name}.flac",
                    np.clip(track[:n], -1.0, 1.0),
                    SAMPLE_RATE,
                    subtype="PCM_16",
                    format="FLAC",
                )
            with self._lock, self._db.atomic():
                self._insert_song(song, n / SAMPLE_RATE, gain)
                for record in records:
                    self._insert_consent(record, song)
                if records:
                    self._refresh_usable([song.id])
                if source is not None:
                    self._record_import(song.id, *source)
                # Files from a song that never got its rows (a crash mid-add) are orphans.
                if final.exists():
                    shutil.rmtree(final)
                staging.rename(final)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if final.exists() and self.song(song.id) is None:
                shutil.rmtree(final, ignore_errors=True)
            if isinstance(exc, sqlite3.IntegrityError):  # another process added it meanwhile
                raise InvalidInput(f"song {song.id} is already in the catalogue") from exc
            raise

    def _insert_song(self, song: Song, duration_s: float, gain: float) -> None:
        db = self._db
        for split in song.splits:
            h = split.holder
            known = db.execute("SELECT name, kind FROM holders WHERE id = ?", [h.id]).fetchone()
            if known is None:
                db.execute(
                    "INSERT INTO holders (id, name, kind) VALUES (?, ?, ?)", [h.id, h.name, h.kind]
                )
            elif tuple(known) != (h.name, h.kind):
                raise InvalidInput(
                    f"song {song.id}: rights holder {h.id} is {known[0]!r} ({known[1]}) in the "
                    f"catalogue, not {h.name!r} ({h.kind})"
                )
        self._table("songs").insert(rows.song_row(song, duration_s, gain))
        self._table("splits").insert_all(rows.split_rows(song))
        self._table("stems").insert_all(rows.stem_rows(song))
        self._table("songs_fts").insert(fts_row(song))

    # -- imported files -------------------------------------------------------------------

    def _record_import(self, song_id: str, path: str, content_hash: str) -> None:
        self._db.execute(
            "INSERT INTO imported_files (content_hash, path, song_id, imported_at) "
            "VALUES (?, ?, ?, ?)",
            [content_hash, path, song_id, datetime.now(UTC).isoformat()],
        )

    def import_record(self, content_hash: str) -> dict[str, str] | None:
        """The path and song id a file with these bytes (sha256) was imported as, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT path, song_id FROM imported_files WHERE content_hash = ?", [content_hash]
            ).fetchone()
        return None if row is None else {"path": row[0], "song_id": row[1]}

    def imported_song_at(self, path: str) -> str | None:
        """The song most recently imported from this path, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT song_id FROM imported_files WHERE path = ? "
                "ORDER BY imported_at DESC, rowid DESC LIMIT 1",
                [path],
            ).fetchone()
        return None if row is None else str(row[0])

    # -- rights holders and consent -------------------------------------------------------

    def holders(self) -> list[RightsHolder]:
        with self._lock:
            found = self._db.execute("SELECT id, name, kind FROM holders ORDER BY name, id")
            return [RightsHolder(*r) for r in found]

    def consent_records(self, song_ids: Iterable[str] | None = None) -> list[ConsentRecord]:
        """Every version of the consent in force (of these songs), by song, holder, version.

        For a song and holder that the rights server in force (``registry_server``) has
        published consent for, that is the server's versions; otherwise the local ones (the
        demo, an import manifest). See ``migrations._v_registry_consent``.
        """
        cols = "song_id, holder_id, version, permissions, uses, effective_from, revoked_at"
        order = "ORDER BY song_id, holder_id, version"
        with self._lock:
            server = self.registry_server
            if server is None:
                sql = f"SELECT {cols} FROM consent c WHERE {{songs}} {order}"
                base: list[Any] = []
            else:
                sql = (
                    f"SELECT {cols} FROM registry_consent c WHERE server = ? AND {{songs}} "
                    f"UNION ALL SELECT {cols} FROM consent c WHERE {{songs}} AND NOT EXISTS "
                    f"(SELECT 1 FROM registry_consent r WHERE r.server = ? AND "
                    f"r.song_id = c.song_id AND r.holder_id = c.holder_id) {order}"
                )
                base = [server]
            if song_ids is None:
                found = list(self._db.query(sql.format(songs="1"), base * 2))
            else:
                found = []
                for chunk in _chunks(list(dict.fromkeys(song_ids)), 400):
                    where = f"c.song_id IN ({','.join('?' * len(chunk))})"
                    params = [*base, *chunk, *chunk, *base] if server else chunk
                    found += self._db.query(sql.format(songs=where), params)
        return [rows.consent_from_row(r) for r in found]

    @property
    def registry_server(self) -> str | None:
        """The rights server whose published consent is in force here, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM catalog_meta WHERE key = 'registry_server'"
            ).fetchone()
        return row[0] if row else None

    @registry_server.setter
    def registry_server(self, url: str | None) -> None:
        with self._lock, self._db.atomic():
            before = self.registry_server
            if url == before:
                return
            if url is None:
                self._db.execute("DELETE FROM catalog_meta WHERE key = 'registry_server'")
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO catalog_meta (key, value) "
                    "VALUES ('registry_server', ?)",
                    [url],
                )
            changed = [
                r[0]
                for r in self._db.execute(
                    "SELECT DISTINCT song_id FROM registry_consent WHERE server IN (?, ?)",
                    [before or "", url or ""],
                )
            ]
            self._refresh_usable(changed)

    def add_registry_consent(self, server: str, record: ConsentRecord) -> bool:
        """Record one version as the rights server ``server`` published it; True if it is new.

        Idempotent (a feed page read again): a version already recorded is left as it is, and
        one the server sends with other contents is refused, since the server's versions never
        change. Versions arrive in order; an older one than the newest recorded is refused.
        """
        song = self.song(record.song_id)
        if song is None:
            raise InvalidInput(f"consent: unknown song id {record.song_id!r}")
        if record.holder_id not in {h.id for h in song.holders}:
            raise InvalidInput(
                f"consent for {record.song_id}: {record.holder_id} is not one of its rights holders"
            )
        with self._lock, self._db.atomic():
            found = list(
                self._db.query(
                    "SELECT * FROM registry_consent WHERE server = ? AND song_id = ? "
                    "AND holder_id = ? AND version = ?",
                    [server, record.song_id, record.holder_id, record.version],
                )
            )
            if found:
                if rows.consent_from_row(found[0]) != record:
                    raise InvalidInput(
                        f"consent for {record.song_id} from {record.holder_id}: the server sent "
                        f"version {record.version} again with other contents; kept the first"
                    )
                return False
            latest = self._db.execute(
                "SELECT MAX(version) FROM registry_consent WHERE server = ? AND song_id = ? "
                "AND holder_id = ?",
                [server, record.song_id, record.holder_id],
            ).fetchone()[0]
            if latest is not None and record.version < latest:
                raise InvalidInput(
                    f"consent for {record.song_id} from {record.holder_id}: version "
                    f"{record.version} is older than {latest}; consent records are append-only"
                )
            self._table("registry_consent").insert({"server": server, **rows.consent_row(record)})
            self._refresh_usable([song.id])
        return True

    def add_consent(self, record: ConsentRecord) -> None:
        """Append one version of one holder's consent; versions only go up, nothing is replaced."""
        song = self.song(record.song_id)
        if song is None:
            raise InvalidInput(f"consent: unknown song id {record.song_id!r}")
        with self._lock, self._db.atomic():
            self._insert_consent(record, song)
            self._refresh_usable([song.id])

    def _insert_consent(self, record: ConsentRecord, song: Song) -> None:
        if record.song_id != song.id:
            raise InvalidInput(f"consent for {record.song_id} given with song {song.id}")
        if record.holder_id not in {h.id for h in song.holders}:
            raise InvalidInput(
                f"consent for {record.song_id}: {record.holder_id} is not one of its rights holders"
            )
        latest = self._db.execute(
            "SELECT MAX(version) FROM consent WHERE song_id = ? AND holder_id = ?",
            [record.song_id, record.holder_id],
        ).fetchone()[0]
        if latest is not None and record.version <= latest:
            what = "already exists" if record.version == latest else f"is older than {latest}"
            raise InvalidInput(
                f"consent for {record.song_id} from {record.holder_id}: version "
                f"{record.version} {what}; consent records are append-only"
            )
        self._table("consent").insert(rows.consent_row(record))

    # -- audio ----------------------------------------------------------------------------

    def stem_path(self, song_id: str, stem_name: str) -> Path:
        song = self._known(song_id)
        names = [s.name for s in song.stems]
        if stem_name not in names:
            raise InvalidInput(
                f"song {song_id} has no stem {stem_name!r} (it has {', '.join(names)})"
            )
        return self.audio_dir / song_id / f"{stem_name}.flac"

    def load_audio(
        self, song_id: str, stem: str | None = None, time_range: TimeRange | None = None
    ) -> Audio:
        """float32 audio at 32 kHz: one stem as (1, n), or the stereo mix of all stems as (2, n)."""
        song = self._known(song_id)
        start, stop = 0, None
        if time_range is not None:
            time_range.check_within(song.duration_s, f"song {song_id}")
            start = round(time_range.start_s * SAMPLE_RATE)
            stop = round(time_range.end_s * SAMPLE_RATE)
        if stem is not None:
            return self._read(song_id, self.stem_path(song_id, stem), start, stop)[None, :]
        with self._lock:
            gain = self._db.execute("SELECT mix_gain FROM songs WHERE id = ?", [song_id]).fetchone()
        tracks = [
            self._read(song_id, self.stem_path(song_id, s.name), start, stop) for s in song.stems
        ]
        return mix.mixdown(tracks, mix.stereo_gains(song.stems), float(gain[0]))

    def _read(self, song_id: str, path: Path, start: int, stop: int | None) -> Audio:
        try:
            data, _ = sf.read(path, start=start, stop=stop, dtype="float32", always_2d=True)
        except (OSError, RuntimeError, sf.LibsndfileError) as exc:
            raise CatalogError(
                f"audio of song {song_id}: {path} is missing or unreadable ({exc})"
            ) from exc
        return np.ascontiguousarray(data[:, 0])

    # -- for the audio origins index (consent/origins.py) ---------------------------------

    def song_ids(self) -> list[str]:
        """Every song id, in id order."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM songs ORDER BY id")]

    def audio_files(self, song_id: str) -> dict[str, Path]:
        """The song's stored audio files: stem name -> file ('' -> its own mix, if stored)."""
        song = self._known(song_id)
        return {s.name: self.audio_dir / song_id / f"{s.name}.flac" for s in song.stems}

    def has_own_mix(self, song_id: str) -> bool:
        """True when the song's mix is a stored recording rather than the sum of its stems."""
        self._known(song_id)
        return False

    def _table(self, name: str) -> Table:
        return self._db.table(name)

    def _known(self, song_id: str) -> Song:
        song = self.song(song_id)
        if song is None:
            raise InvalidInput(f"unknown song id {song_id!r}")
        return song


def _hierarchy(key: str) -> _hier.Hierarchy:
    try:
        return _hier.BY_KEY[key]
    except KeyError:
        known = ", ".join(_hier.BY_KEY)
        raise InvalidInput(f"unknown hierarchy {key!r} (known: {known})") from None


def _damaged(path: Path, detail: str) -> str:
    return (
        f"catalogue {path}: the database is damaged ({detail}); "
        "move the file away to start a new catalogue"
    )


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
