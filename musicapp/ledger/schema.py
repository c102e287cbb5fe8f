"""The ledger's SQLite schema: the events table, its append-only guards, numbered migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from musicapp.ledger.event import LedgerError

SCHEMA_VERSION = 1
COLUMNS = "seq, id, kind, ts, payload, prev_hash, hash"
GUARDS = ("events_no_update", "events_no_delete")

# The append-only guards as created; SQLite keeps this text in sqlite_master, so a guard that
# was replaced by a weaker one shows as different text. ``ledger repair`` creates them again.
GUARD_SQL = {
    "events_no_update": """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'ledger events are append-only: updates are refused'); END""",
    "events_no_delete": """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
           BEGIN SELECT RAISE(ABORT, 'ledger events are append-only: deletes are refused'); END""",
}

# Numbered migrations: entry N brings the schema from version N-1 to N.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            ts TEXT NOT NULL,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX events_by_kind ON events (kind, seq)",
        GUARD_SQL["events_no_update"],
        GUARD_SQL["events_no_delete"],
    ),
}


def guards_changed(db: sqlite3.Connection) -> list[str]:
    """The append-only guards that are missing or not as musicapp created them."""
    found = dict(
        db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    )
    return [name for name in GUARDS if found.get(name) != GUARD_SQL[name]]


def _version(db: sqlite3.Connection, path: Path) -> int:
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "schema_version" not in tables:
        if tables:
            raise LedgerError(
                f"ledger {path}: an SQLite database but not a musicapp ledger "
                f"(it holds tables {', '.join(sorted(tables))})"
            )
        return 0
    version = int(db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"ledger {path}: written by a newer musicapp (schema {version}, this one knows up "
            f"to {SCHEMA_VERSION})"
        )
    return version


def migrate(db: sqlite3.Connection, path: Path) -> bool:
    """Bring the schema up to date; True if the ledger was created just now."""
    if _version(db, path) == SCHEMA_VERSION:
        return False
    db.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated meanwhile.
        version = _version(db, path)
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number]:
                db.execute(statement)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return version == 0
