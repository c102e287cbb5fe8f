"""Which files were imported as which songs, by content hash and by path: re-imports find them.

A part of CatalogStore (`catalog.imports`) over the store's one connection and lock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlite_utils import Database


class ImportRecords:
    """The imported_files table: one row per import, kept when the song is replaced."""

    def __init__(self, db: Database, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock

    def record_import(self, song_id: str, path: str, content_hash: str) -> None:
        """Note an import inside the caller's transaction (add_song's), under the lock it holds."""
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

    def source_of(self, song_id: str) -> str | None:
        """The path the song was imported from (its latest import), or None for a song that
        was not imported (the demo's)."""
        with self._lock:
            row = self._db.execute(
                "SELECT path FROM imported_files WHERE song_id = ? "
                "ORDER BY imported_at DESC, rowid DESC LIMIT 1",
                [song_id],
            ).fetchone()
        return None if row is None else str(row[0])
