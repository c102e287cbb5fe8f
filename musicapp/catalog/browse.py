"""The store's browsing queries: search, suggestions, filter choices and the hierarchy trees.

A part of CatalogStore (`catalog.browse`) over the store's one connection and lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from musicapp.catalog import hierarchy as _hier
from musicapp.catalog.consent_tables import SongSource
from musicapp.catalog.search import SearchFilters, Suggestion, browse_query, tier_queries
from musicapp.core import InvalidInput, Level, Song, Use

_SEP = _hier.SEP


@dataclass(frozen=True)
class TreeNode:
    """One row of the genre → artist → album → song tree.

    A song leaf has song_id set, count 1, and a path that ends with the song id (titles can repeat).
    """

    label: str
    count: int
    path: tuple[str, ...]
    song_id: str | None = None


@dataclass(frozen=True)
class SongRow:
    """What a catalogue row shows beside a song's title: its length, tempo and key, and
    whether its consent allows the level and use asked about (the "usable for" filter's mask)."""

    duration_s: float
    tempo_bpm: float | None
    key: str
    usable: bool

    def details(self) -> str:
        """ "3:12 · 96 BPM · D major" (what is known)."""
        whole = int(round(self.duration_s))
        parts = [f"{whole // 60}:{whole % 60:02d}"] if self.duration_s > 0 else []
        if self.tempo_bpm:
            parts.append(f"{self.tempo_bpm:.0f} BPM")
        if self.key:
            parts.append(self.key)
        return " · ".join(parts)


class Browsing:
    """Finding songs: type-ahead search, filters and the trees of the browser."""

    def __init__(
        self, db: Database, lock: threading.RLock, songs: SongSource, due: Callable[[], None]
    ) -> None:
        """`due` brings the usable-for masks up to date before a filter reads them
        (ConsentTables.refresh_due_usable)."""
        self._db = db
        self._lock = lock
        self._songs = songs
        self._refresh_due_usable = due

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
        found = self._songs.songs(ids)
        return [found[i] for i in ids if i in found]

    def suggest(
        self, text: str, limit: int = 10, filters: SearchFilters | None = None
    ) -> list[Suggestion]:
        """Completions for the search box, ranked like search(), without loading the songs
        (only their albums and years, to tell same-titled songs apart)."""
        rows = self._ranked(text, limit, filters)
        if not rows:
            return []
        ids = [row[0] for row in rows]
        marks = ",".join("?" * len(ids))
        with self._lock:
            extra: dict[str, tuple[str, int | None]] = {
                r[0]: (r[1] or "", r[2])
                for r in self._db.execute(
                    f"SELECT id, album, year FROM songs WHERE id IN ({marks})", ids
                )
            }
        out = []
        for row in rows:
            album, year = extra.get(row[0], ("", None))
            out.append(Suggestion(str(row[0]), str(row[1]), str(row[2]), album, year))
        return out

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

    def hierarchies(self) -> list[tuple[str, str]]:
        """The ways to browse, as (key for children(), label for the user)."""
        return [(h.key, h.label) for h in _hier.HIERARCHIES]

    def song_rows(self, song_ids: list[str], level: Level, use: Use) -> dict[str, SongRow]:
        """The rows' details of these songs; usable for (level, use) as the filter says."""
        from musicapp.core import usable_bit

        bit = usable_bit(level, use)
        songs = self._songs.songs(song_ids)
        with self._lock:
            self._refresh_due_usable()
            masks: dict[str, int] = {}
            for i in range(0, len(song_ids), 500):
                chunk = song_ids[i : i + 500]
                marks = ", ".join("?" for _ in chunk)
                for sid, mask in self._db.execute(
                    f"SELECT song_id, mask FROM usable WHERE song_id IN ({marks})", chunk
                ):
                    masks[sid] = int(mask)
        return {
            sid: SongRow(s.duration_s, s.tempo_bpm, s.key, bool(masks.get(sid, 0) & bit))
            for sid, s in songs.items()
        }

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


def _hierarchy(key: str) -> _hier.Hierarchy:
    try:
        return _hier.BY_KEY[key]
    except KeyError:
        known = ", ".join(_hier.BY_KEY)
        raise InvalidInput(f"unknown hierarchy {key!r} (known: {known})") from None
