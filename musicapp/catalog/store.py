"""The catalogue store: songs, rights holders, consent records and stems, in SQLite and FLAC files.

CatalogStore opens the file (store_file.py) and holds the songs and their audio; its other jobs
are parts over the same connection and lock: `consent` (rights holders, consent, usable-for masks,
split versions: consent_tables.py), `imports` (which files became which songs: import_records.py)
and `browse` (search and the trees: browse.py, whose calls the store also answers itself).
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils.db import Table

from musicapp.catalog import hierarchy as _hier
from musicapp.catalog import migrations, mix, rights, rows, store_file
from musicapp.catalog.browse import Browsing, TreeNode
from musicapp.catalog.consent_tables import ConsentTables
from musicapp.catalog.errors import CatalogError
from musicapp.catalog.import_records import ImportRecords
from musicapp.catalog.migrations import FTS_COLUMNS
from musicapp.catalog.mix import Audio
from musicapp.catalog.rights import SplitVersion, chunks
from musicapp.catalog.search import fts_row
from musicapp.catalog.song_audio import StoredSong
from musicapp.catalog.song_files import MIX_FILE, check_new_song, read_all, store_flac
from musicapp.core import (
    ConsentRecord,
    InvalidInput,
    Song,
    Split,
    Stem,
    TimeRange,
)

_SONG_ORDER = "genre, artist, album, title, id"

__all__ = ["CatalogError", "CatalogStore", "SplitVersion", "TreeNode"]


class CatalogStore:
    """The songs of the inference set, their rights holders, consent records and stems.

    Safe to share between threads: one connection, used under a lock, shared with its parts.
    """

    # Fixed attributes: code written before the split that sets `catalog.registry_server`
    # raises here rather than setting a plain attribute nobody reads (it is catalog.consent's).
    __slots__ = ("_db", "_lock", "audio_dir", "browse", "consent", "imports", "path")

    consent: ConsentTables
    imports: ImportRecords
    browse: Browsing

    def __init__(self, path: Path, audio_dir: Path) -> None:
        self.path = Path(path)
        self.audio_dir = Path(audio_dir)
        self._lock = threading.RLock()
        self._db = store_file.open_catalogue(self.path, self.audio_dir)
        self.consent = ConsentTables(self._db, self._lock, self)
        self.imports = ImportRecords(self._db, self._lock)
        self.browse = Browsing(self._db, self._lock, self, self.consent.refresh_due_usable)

    # -- lifetime -------------------------------------------------------------------------

    def check_integrity(self) -> None:
        """Read every page of the file; raise CatalogError naming the first damage found."""
        with self._lock:
            store_file.check_integrity(self._db, self.path)

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

    def songs(self, ids: Iterable[str], at: datetime | None = None) -> dict[str, Song]:
        """The songs with these ids that exist, by id (unknown ids are left out).

        With `at`, each song carries the splits that were in force then (a take's royalties
        were computed with those); otherwise its latest splits.
        """
        wanted = list(dict.fromkeys(ids))
        out: dict[str, Song] = {}
        for chunk in chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            out.update((s.id, s) for s in self._load(f"WHERE id IN ({marks})", chunk, at))
        return out

    def all_songs(self) -> list[Song]:
        """Every song, in tree order (genre, artist, album, title)."""
        return self._load("", [])

    def _load(self, where: str, params: list[Any], at: datetime | None = None) -> list[Song]:
        with self._lock:
            found = list(
                self._db.query(f"SELECT * FROM songs {where} ORDER BY {_SONG_ORDER}", params)
            )
            if not found:
                return []
            ids = [r["id"] for r in found]
            splits: dict[str, tuple[Split, ...]] = {}
            for chunk in chunks(ids, 500):
                splits.update(rights.splits_of(self._db, chunk, at))
            stems: dict[str, list[Stem]] = {i: [] for i in ids}
            for chunk in chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for r in self._db.query(
                    f"SELECT * FROM stems WHERE song_id IN ({marks}) AND role != ? "
                    "ORDER BY song_id, position",
                    [*chunk, mix.MIX_ROLE],
                ):
                    stems[r["song_id"]].append(
                        Stem(r["name"], r["instrument"], r["family"], r["role"])
                    )
        return [rows.song_from_row(r, splits[r["id"]], tuple(stems[r["id"]])) for r in found]

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
        mix_file: Path | None = None,
    ) -> None:
        """Add a song, its audio and consent; all of it or nothing.

        `stem_files` (stem name -> file) and `mix_file` (the song's own full mix) are mono or
        stereo WAV or FLAC at song.sample_rate; at least one of the two is given. They are
        stored as FLAC under audio_dir/<song id>/ at the source's depth (16 or 24 bit; float
        becomes 24 bit), cut to the shortest (they may differ by song_files.MAX_LENGTH_MISMATCH_S).
        The stored duration is that length, whatever song.duration_s says.

        `source` (path, content hash) records the imported file the song came from, in the same
        transaction; it also marks the stems as recorded ones, which keep their own image (mono
        in the centre). Without it the stems are rendered parts: mono, spread by mix.pan_positions
        under one peak-safe gain (the demo).
        """
        if self.song(song.id) is not None:
            raise InvalidInput(f"song {song.id} is already in the catalogue")
        stems, own_mix, n = check_new_song(song, stem_files, mix_file)
        records = list(consent)
        layout = mix.SPREAD if source is None else mix.RECORDED
        gain = 1.0
        if layout == mix.SPREAD and stems:
            tracks = [read_all(stems[s.name], n) for s in song.stems]
            gain = mix.peak_safe_gain(mix.mixdown(tracks, mix.stereo_gains(song.stems)))
            del tracks
        staging = Path(tempfile.mkdtemp(prefix=f".incoming-{song.id}-", dir=self.audio_dir))
        final = self.audio_dir / song.id
        try:
            for name, file in stems.items():
                store_flac(file, staging / f"{name}.flac", n)
            if own_mix is not None:
                store_flac(own_mix, staging / MIX_FILE, n)
            row = rows.song_row(
                song, n / song.sample_rate, gain, layout, MIX_FILE if own_mix else ""
            )
            with self._lock, self._db.atomic():
                self._insert_song(song, row)
                for record in records:
                    self.consent.insert_consent(record, song)
                if records:
                    self.consent.refresh_usable([song.id])
                if source is not None:
                    self.imports.record_import(song.id, *source)
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

    def _insert_song(self, song: Song, row: dict[str, Any]) -> None:
        rights.insert_holders(self._db, song.id, song.splits)
        self._table("songs").insert(row)
        self._table("splits").insert_all(rows.split_rows(song))
        self._table("stems").insert_all(rows.stem_rows(song))
        self._table("songs_fts").insert(fts_row(song))

    # -- audio ----------------------------------------------------------------------------

    def _stored(self, song_id: str) -> StoredSong:
        song = self._known(song_id)
        with self._lock:
            rate, layout, mix_file, gain = self._db.execute(
                "SELECT sample_rate, stem_layout, mix_file, mix_gain FROM songs WHERE id = ?",
                [song_id],
            ).fetchone()
            channels = [
                Stem(*r)
                for r in self._db.execute(
                    "SELECT name, instrument, family, role FROM stems "
                    "WHERE song_id = ? AND role = ? ORDER BY position",
                    [song_id, mix.MIX_ROLE],
                )
            ]
        return StoredSong(
            song_id,
            self.audio_dir / song_id,
            int(rate),
            str(layout),
            str(mix_file),
            float(gain),
            song.stems,
            tuple(channels),
            song.duration_s,
        )

    def stem_path(self, song_id: str, stem_name: str) -> Path:
        """The stored file of one stem (mono or stereo FLAC at the song's rate)."""
        return self._stored(song_id).stem_path(stem_name)

    def has_own_mix(self, song_id: str) -> bool:
        """Whether the song's mix is a recording of its own rather than its stems' sum."""
        return self._stored(song_id).has_own_mix

    def audio_files(self, song_id: str) -> dict[str, Path]:
        """The song's stored audio: stem name -> file, and "" -> its own mix file if any.

        A song imported before recordings kept their image has its mix channels instead, under
        "mix-left" and "mix-right" (or "mix-mono"); it has no stems and has_own_mix() is true.
        """
        return self._stored(song_id).files()

    def stems_are_recorded(self, song_id: str) -> bool:
        """Whether the song's stems came with a recording (imported) rather than rendered."""
        return self._stored(song_id).layout == mix.RECORDED

    def load_audio(
        self, song_id: str, stem: str | None = None, time_range: TimeRange | None = None
    ) -> Audio:
        """float32 (2, n) at the song's sample_rate: its mix, or one stem as it sits in the mix.

        The mix is the song's own full mix when it has one, else the sum of its stems; a stem
        is placed as in that sum (a mono one at its pan, or centred for recorded stems; a
        stereo one as stored; times the song's mix gain), so stems sum to a stem-built mix.
        """
        stored = self._stored(song_id)
        start, stop = 0, None
        if time_range is not None:
            time_range.check_within(stored.duration_s, f"song {song_id}")
            start = round(time_range.start_s * stored.rate)
            stop = round(time_range.end_s * stored.rate)
        if stem is not None:
            return stored.read_stem(stem, start, stop)
        return stored.read_mix(start, stop)

    # -- for the audio origins index (consent/origins.py) ---------------------------------

    def song_ids(self) -> list[str]:
        """Every song id, in id order."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM songs ORDER BY id")]

    def songs_stamp(self) -> int:
        """Changes when songs are added (the newest row id; one index lookup, not a count):
        readers that derive data from every song know when to look for new ones."""
        with self._lock:
            return int(self._db.execute("SELECT coalesce(max(rowid), 0) FROM songs").fetchone()[0])

    def _table(self, name: str) -> Table:
        return self._db.table(name)

    def _known(self, song_id: str) -> Song:
        song = self.song(song_id)
        if song is None:
            raise InvalidInput(f"unknown song id {song_id!r}")
        return song
