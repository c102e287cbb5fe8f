"""Opening the catalogue's SQLite file: what is wrong with it, in words, before anything reads it.

CatalogStore opens its file here; every failure is a CatalogError naming the file and what to do.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from sqlite_utils import Database

from musicapp.catalog import migrations
from musicapp.catalog.errors import CatalogError

# Files up to this size get the full page check on open (see _prepare).
FULL_CHECK_MAX_BYTES = 256 * 1024 * 1024
_SQLITE_MAGIC = b"SQLite format 3\x00"


def open_catalogue(path: Path, audio_dir: Path) -> Database:
    """The catalogue's database, checked and migrated to this version's schema."""
    _check_file(path)
    try:
        audio_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
    except (OSError, sqlite3.Error) as exc:
        raise CatalogError(f"catalogue {path}: cannot be opened ({exc})") from exc
    db = Database(conn)
    try:
        _prepare(db, path, audio_dir)
    except CatalogError:
        conn.close()
        raise
    except sqlite3.OperationalError as exc:  # read-only, locked, disk full
        conn.close()
        raise CatalogError(f"catalogue {path}: cannot be used ({exc})") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CatalogError(_damaged(path, str(exc))) from exc
    return db


def check_integrity(db: Database, path: Path) -> None:
    """Read every page of the file; raise CatalogError naming the first damage found."""
    check = db.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        detail = [line for line in check.splitlines() if not line.startswith("***")]
        raise CatalogError(_damaged(path, detail[0] if detail else check))


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise CatalogError(f"catalogue {path}: is a folder, not a catalogue file")
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"catalogue {path}: cannot create its folder ({exc})") from exc
        return
    try:
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise CatalogError(f"catalogue {path}: cannot be read ({exc})") from exc
    if head and head != _SQLITE_MAGIC:
        raise CatalogError(f"catalogue {path}: is not a SQLite database")


def _prepare(db: Database, path: Path, audio_dir: Path) -> None:
    # A full page check reads the whole file: instant for the demo, about 3 s for a
    # million songs, which would hold up the window's start. Large catalogues get the
    # cheap check here (the schema must read) and the full one on demand.
    if path.exists() and path.stat().st_size <= FULL_CHECK_MAX_BYTES:
        check_integrity(db, path)
    else:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    found = migrations.schema_version(db)
    if found > migrations.LATEST_VERSION:
        raise CatalogError(
            f"catalogue {path}: written by a newer musicapp (schema version {found}, "
            f"this version reads up to {migrations.LATEST_VERSION})"
        )
    db.execute("PRAGMA foreign_keys = ON")
    db.enable_wal()
    migrations.migrate(db)
    _remove_stale_staging(audio_dir)


def _remove_stale_staging(audio_dir: Path) -> None:
    # Left by an add_song or a demo build that crashed; waiting an hour keeps clear of one
    # still running in another process.
    cutoff = time.time() - 3600
    for pattern in (".incoming-*", ".demo-build-*"):
        for d in audio_dir.glob(pattern):
            if d.stat().st_mtime < cutoff:
                shutil.rmtree(d, ignore_errors=True)


def _damaged(path: Path, detail: str) -> str:
    return (
        f"catalogue {path}: the database is damaged ({detail}); "
        "move the file away to start a new catalogue"
    )
