"""The content index: a small SQLite file mapping audio digests to the ledger events that record
them, so a file can be found by its audio on a ledger of any size.

It is a cache, not a record: nothing in it is part of the hash chain, it is rebuilt from the
ledger when it is missing, damaged, or does not match the ledger (a restored or replaced
ledger), and ``update`` brings it up to date by reading only the events after the last one it
indexed. Rows, by the payload field they come from:

- export events: ``file_sha256`` (role "file"), ``pcm_sha256`` ("pcm"), ``audio_sha256``
  ("pcm" for the first 16-bit exports, which recorded nothing else; "pcm16" for deeper
  exports, where it is their 16-bit read), ``pcm16_rounded_sha256`` ("pcm16_rounded"), and
  for an MP3 export ``mp3_frames_sha256`` ("mp3": its encoded audio frames, ``mp3.py``).
- generation events (takes): ``file_sha256`` ("file") and ``pcm_sha256`` ("pcm"). The
  ``audio_sha256`` of the first takes hashed the audio rounded at another scale than the file
  holds, so it identifies no file and is not indexed.
- export_failed events: the export they withdraw, so a lookup can rank it last.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from musicapp.export.record import EXPORT_FAILED_KIND, EXPORT_KIND
from musicapp.ledger import Ledger, StoredEvent
from musicapp.ledger.kinds import GENERATION

INDEX_NAME = "content-index.sqlite"
GENERATION_KIND = GENERATION
SCHEMA_VERSION = "1"
_INDEXED = {EXPORT_KIND, GENERATION_KIND, EXPORT_FAILED_KIND}
_FLUSH_ROWS = 10_000
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS digests (
        digest BLOB NOT NULL,
        role TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        PRIMARY KEY (digest, seq, role)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS withdrawn (
        export_event_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
    ) WITHOUT ROWID""",
)


def default_index_path(ledger: Ledger) -> Path:
    """Where the app keeps the index: beside the ledger, in the data folder."""
    return Path(ledger.path).with_name(INDEX_NAME)


@dataclass(frozen=True)
class IndexUpdate:
    """What one ``update`` did: events read from the ledger, rows added, whether it started over."""

    read: int
    added: int
    rebuilt: bool
    last_seq: int


@dataclass(frozen=True)
class IndexRow:
    """One recorded digest that a lookup found."""

    digest: str
    role: str  # "file", "pcm", "pcm16" or "pcm16_rounded"
    seq: int
    event_id: str
    kind: str  # the ledger event's kind: "export" or "generation"
    withdrawn: bool  # an export_failed event says this export never completed


def _hex(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) != 64:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def event_rows(kind: str, payload: dict[str, Any]) -> Iterator[tuple[bytes, str]]:
    """The (digest, role) pairs an event's payload records (see the module's docstring)."""
    fields: list[tuple[str, str]] = [("file_sha256", "file"), ("pcm_sha256", "pcm")]
    if kind == EXPORT_KIND:
        native = payload.get("pcm_format")
        legacy_role = "pcm" if native in (None, "s16le") else "pcm16"
        if native != "s16le":  # a 16-bit export's audio_sha256 is its pcm_sha256
            fields.append(("audio_sha256", legacy_role))
        fields.append(("pcm16_rounded_sha256", "pcm16_rounded"))
        fields.append(("mp3_frames_sha256", "mp3"))
    for name, role in fields:
        digest = _hex(payload.get(name))
        if digest is not None:
            yield digest, role


class ContentIndex:
    """The index file at ``path``, opened (and created or repaired) on construction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._created = False
        try:
            self._db = self._open()
        except sqlite3.DatabaseError:
            # A damaged cache is thrown away, never trusted: it is rebuilt from the ledger.
            self._drop_files()
            self._db = self._open()

    def _drop_files(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _open(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._created = not self.path.exists()
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=NORMAL")  # a cache: a lost update is re-read
            for statement in _SCHEMA:
                db.execute(statement)
            version = self._meta(db, "schema_version")
            if version not in (None, SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"content index schema {version}")
            if version is None:
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _events(
        self, ledger: Ledger, last_seq: int, last_hash: str
    ) -> tuple[Iterator[StoredEvent], bool]:
        """The events after the last indexed one, and whether the index must start over because
        that event is not (or no longer) in this ledger."""
        if last_seq == 0:
            return ledger.stored_events(0), False
        events = ledger.stored_events(last_seq - 1)
        first = next(events, None)
        if first is not None and first.seq == last_seq and first.hash == last_hash:
            return events, False
        close = getattr(events, "close", None)
        if close is not None:
            close()
        return ledger.stored_events(0), True

    def update(self, ledger: Ledger) -> IndexUpdate:
        """Index the events the ledger gained since the last update (all of them, the first time
        or when the ledger is not the one indexed)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")  # two processes updating at once take turns
        try:
            last_seq = int(self._meta(db, "last_seq") or 0)
            last_hash = self._meta(db, "last_hash") or ""
            events, start_over = self._events(ledger, last_seq, last_hash)
            rebuilt = self._created or start_over
            if start_over:
                db.execute("DELETE FROM digests")
                db.execute("DELETE FROM withdrawn")
            read = added = 0
            rows: list[tuple[bytes, str, int, str, str]] = []
            withdrawn: list[tuple[str, int]] = []
            for event in events:
                read += 1
                last_seq, last_hash = event.seq, event.hash
                if event.kind not in _INDEXED:
                    continue
                try:
                    payload = json.loads(event.payload_json)
                except ValueError:
                    continue  # an unreadable payload is the chain check's to report
                if not isinstance(payload, dict):
                    continue
                if event.kind == EXPORT_FAILED_KIND:
                    withdrawn_id = payload.get("export_event_id")
                    if isinstance(withdrawn_id, str):
                        withdrawn.append((withdrawn_id, event.seq))
                    continue
                for digest, role in event_rows(event.kind, payload):
                    rows.append((digest, role, event.seq, event.id, event.kind))
                if len(rows) >= _FLUSH_ROWS:
                    added += self._insert(rows, withdrawn)
            added += self._insert(rows, withdrawn)
            self._set_meta("last_seq", str(last_seq))
            self._set_meta("last_hash", last_hash)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._created = False
        return IndexUpdate(read, added, rebuilt, last_seq)

    def _insert(
        self, rows: list[tuple[bytes, str, int, str, str]], withdrawn: list[tuple[str, int]]
    ) -> int:
        self._db.executemany("INSERT OR IGNORE INTO digests VALUES (?, ?, ?, ?, ?)", rows)
        self._db.executemany("INSERT OR IGNORE INTO withdrawn VALUES (?, ?)", withdrawn)
        added = len(rows)
        rows.clear()
        withdrawn.clear()
        return added

    def lookup(self, digests: Collection[str]) -> list[IndexRow]:
        """Every recorded digest among ``digests`` (hex), oldest event first."""
        keys = [d for d in (_hex(x) for x in digests) if d is not None]
        if not keys:
            return []
        marks = ", ".join("?" * len(keys))
        found = self._db.execute(
            f"""SELECT d.digest, d.role, d.seq, d.event_id, d.kind, w.seq IS NOT NULL
                FROM digests d LEFT JOIN withdrawn w ON w.export_event_id = d.event_id
                WHERE d.digest IN ({marks}) ORDER BY d.seq""",
            keys,
        ).fetchall()
        return [
            IndexRow(d.hex(), role, seq, eid, kind, bool(w)) for d, role, seq, eid, kind, w in found
        ]

    def count(self) -> int:
        """How many digests the index holds."""
        return int(self._db.execute("SELECT COUNT(*) FROM digests").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ContentIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
