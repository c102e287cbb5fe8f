"""What the sync engine has learned, kept in ``sync.sqlite`` in the data folder.

Kept apart from the ledger so the ledger's schema (and its append-only guarantee) stays as it
is: receipts live here, keyed by the local event seq. An event is *pending* until its receipt is
stored, and receipts are only written after they were checked, so "pending" survives any crash.
The server URL and TTL chosen in the settings dialog live here too, because the app has no
settings file (``config.Settings`` reads the environment).

The file holds the device's bearer token, so it, its WAL and SHM are 0600 in a 0700 folder from
the moment they exist, and are checked each time the state is opened (``private_files``).
Feed records the client could not apply are kept in ``quarantine``, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from musicapp.config import MAX_CONSENT_TTL_S
from musicapp.sync import claims
from musicapp.sync.private_files import create_private_file, private_dir, private_file
from musicapp.sync.state_parts import FeedBacklog, Receipts
from musicapp.transparency.treehead import TreeHead

STATE_FILE = "sync.sqlite"
ARCHIVE_DIR = "sync-archive"
# What "start over" keeps: the choices made in the settings dialog.
SETTINGS_KEYS = ("server_url", "consent_ttl_s", "allow_insecure_http")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS receipts (
        seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, event_hash TEXT NOT NULL,
        receipt TEXT NOT NULL, stored_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS deferred_consent (
        song_id TEXT NOT NULL, holder_id TEXT NOT NULL, version INTEGER NOT NULL,
        data TEXT NOT NULL, PRIMARY KEY (song_id, holder_id, version))""",
    "CREATE TABLE IF NOT EXISTS remote_songs (id TEXT PRIMARY KEY, data TEXT NOT NULL)",
    # Feed records that could not be applied; "blocks" marks a consent record whose song and
    # holder are known: that song is refused until the server publishes a later version.
    """CREATE TABLE IF NOT EXISTS quarantine (
        key TEXT PRIMARY KEY, feed_seq INTEGER, kind TEXT, song_id TEXT, holder_id TEXT,
        version INTEGER, blocks INTEGER NOT NULL, reason TEXT NOT NULL, data TEXT NOT NULL,
        at TEXT NOT NULL)""",
    claims.SCHEMA,
)


def _storable(text: str | None) -> str | None:
    """``text`` as SQLite can bind it: lone surrogates (valid in a JSON string, not in UTF-8)
    become escapes, so no record's text can make keeping it fail."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _sidecars(path: Path) -> tuple[Path, ...]:
    return tuple(path.with_name(path.name + tail) for tail in ("-wal", "-shm", "-journal"))


@dataclass(frozen=True)
class Quarantined:
    """A feed record the client could not apply, and why."""

    feed_seq: int | None
    kind: str
    song_id: str | None
    holder_id: str | None
    version: int | None
    blocks: bool
    reason: str


class SyncState:
    """The sync state file. Thread-safe: one connection under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        create_private_file(self.path)
        for file in (self.path, *_sidecars(self.path)):
            private_file(file)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        for sql in _SCHEMA:
            self._db.execute(sql)
        for file in _sidecars(self.path):  # made by SQLite with the database's mode; checked
            private_file(file)
        self.receipts = Receipts(self)
        self.backlog = FeedBacklog(self)
        self.claims = claims.Claims(self)

    @classmethod
    def in_folder(cls, data_dir: Path) -> SyncState:
        return cls(Path(data_dir) / STATE_FILE)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- key/value facts -----------------------------------------------------------------------

    def get(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._db.execute("DELETE FROM kv WHERE key = ?", (key,))
            else:
                self._db.execute(
                    "INSERT INTO kv (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    @property
    def cursor(self) -> int:
        return int(self.get("feed_cursor", "0") or 0)

    @cursor.setter
    def cursor(self, value: int) -> None:
        self.set("feed_cursor", str(int(value)))

    def _time(self, key: str) -> datetime | None:
        value = self.get(key)
        return datetime.fromisoformat(value) if value else None

    def _set_time(self, key: str, when: datetime | None) -> None:
        self.set(key, when.isoformat() if when else None)

    @property
    def last_pull_at(self) -> datetime | None:
        """When a feed pull last reached the end of the feed: what the cache age counts from."""
        return self._time("last_pull_at")

    @last_pull_at.setter
    def last_pull_at(self, when: datetime | None) -> None:
        self._set_time("last_pull_at", when)

    @property
    def clock_offset_s(self) -> float | None:
        """Server clock minus this machine's, from the last feed pull's Date header; None if
        never measured. Consent is decided in server time (ConsentService), so a revocation
        the server stamped "now" is in force here as soon as it is synced, whatever the skew."""
        value = self.get("clock_offset_s")
        return float(value) if value else None

    @clock_offset_s.setter
    def clock_offset_s(self, value: float | None) -> None:
        self.set("clock_offset_s", None if value is None else repr(float(value)))

    @property
    def last_sync_at(self) -> datetime | None:
        return self._time("last_sync_at")

    @last_sync_at.setter
    def last_sync_at(self, when: datetime | None) -> None:
        self._set_time("last_sync_at", when)

    @property
    def last_error(self) -> str | None:
        return self.get("last_error")

    @last_error.setter
    def last_error(self, message: str | None) -> None:
        self.set("last_error", message)

    @property
    def tree_head(self) -> TreeHead | None:
        value = self.get("tree_head")
        return TreeHead(**json.loads(value)) if value else None

    @tree_head.setter
    def tree_head(self, head: TreeHead) -> None:
        self.set("tree_head", json.dumps(head.to_dict()))

    # -- starting over with a server ---------------------------------------------------------

    def start_over(self) -> Path:
        """Archive this state and forget the server: device id and token, the pinned key, the
        receipts and tree head, the feed cursor. Returns the archive's path.

        For a new server, or one that no longer knows this device: the next sync registers
        again, pulls the whole feed and sends the ledger (after the stream base, when the same
        server logged part of it already). Nothing is lost: the archive
        (a consistent copy made with SQLite's backup API) keeps the old receipts, which remain
        evidence of what the old server logged. The settings dialog's choices are kept.
        """
        folder = self.path.parent / ARCHIVE_DIR
        private_dir(folder)  # archives hold the old bearer token
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        archive = folder / f"sync-{stamp}.sqlite"
        with self._lock:
            create_private_file(archive)
            target = sqlite3.connect(archive)
            try:
                self._db.backup(target)
            finally:
                target.close()
            marks = ", ".join("?" * len(SETTINGS_KEYS))
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(f"DELETE FROM kv WHERE key NOT IN ({marks})", SETTINGS_KEYS)
                for table in ("receipts", "deferred_consent", "remote_songs", "quarantine"):
                    self._db.execute(f"DELETE FROM {table}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.claims.forget_server()
        return archive

    # -- feed records that could not be applied ------------------------------------------------

    def quarantine(self, change: Any, item: Quarantined) -> bool:
        """Keep ``change`` (as the feed sent it) and why; True if it was not kept already."""
        text = json.dumps(change, sort_keys=True, default=str)  # ASCII: any text is kept
        key = hashlib.sha256(text.encode("ascii")).hexdigest()
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO quarantine (key, feed_seq, kind, song_id, holder_id, "
                "version, blocks, reason, data, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    item.feed_seq,
                    _storable(item.kind),
                    _storable(item.song_id),
                    _storable(item.holder_id),
                    item.version,
                    int(item.blocks),
                    _storable(item.reason),
                    text,
                    datetime.now(UTC).isoformat(),
                ),
            )
        return cur.rowcount == 1

    def quarantined(self, blocking_only: bool = False) -> list[Quarantined]:
        """The records kept in quarantine, in feed order."""
        where = "WHERE blocks = 1" if blocking_only else ""
        with self._lock:
            found = self._db.execute(
                "SELECT feed_seq, kind, song_id, holder_id, version, blocks, reason "
                f"FROM quarantine {where} ORDER BY feed_seq, key"
            ).fetchall()
        return [Quarantined(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in found]

    # -- the server this folder is bound to ----------------------------------------------------

    @property
    def pinned_server(self) -> str | None:
        """The URL whose key is pinned here: consent in the catalogue came from it."""
        return self.get("server_key_url")

    def insecure_http_allowed(self, url: str) -> bool:
        """Whether the user allowed plain HTTP to exactly this server (``--allow-insecure-http``)."""
        return bool(url) and self.get("allow_insecure_http") == url

    @property
    def synced_server(self) -> str | None:
        """The server this folder has synced with (its key pinned, or a device registered):
        what "start over" would forget."""
        return self.get("server_key_url") or self.get("device_id")

    # -- the choices of the settings dialog and `musicapp sync` (kept by start over) ----------

    def save_server_url(self, url: str | None) -> None:
        """The server to sync with, as chosen by the user; None: local only."""
        self.set("server_url", url or None)

    def save_insecure_http(self, url: str | None) -> None:
        """Allow plain HTTP to exactly ``url`` (None: to no server)."""
        self.set("allow_insecure_http", url or None)

    def save_consent_ttl_s(self, seconds: float) -> None:
        """How old a consent cache commercial use accepts (``effective_ttl_s`` caps it)."""
        self.set("consent_ttl_s", repr(float(seconds)))


class SavedChoices(Protocol):
    """What ``effective_server_url`` and ``effective_ttl_s`` read: a SyncState, or the consent
    check's view of it (``consent.service.ConsentFacts``)."""

    @property
    def pinned_server(self) -> str | None: ...

    def get(self, key: str, default: str | None = None) -> str | None: ...


def effective_server_url(settings: Any, state: SavedChoices | None) -> str:
    """The server to use: ``settings.server_url`` (MUSICAPP_SERVER_URL), else the one saved
    (the settings dialog, or the last ``musicapp sync --server``), else the pinned one, else ""
    (local-only mode)."""
    url = getattr(settings, "server_url", "") or ""
    if not url and state is not None:
        url = state.get("server_url") or state.pinned_server or ""
    return url.strip().rstrip("/")


def effective_ttl_s(settings: Any, state: SavedChoices | None) -> float:
    """The consent TTL: the one saved in the settings dialog, else ``settings.consent_ttl_s``;
    never more than MAX_CONSENT_TTL_S (24 h), whatever either says."""
    ttl = float(getattr(settings, "consent_ttl_s", MAX_CONSENT_TTL_S))
    saved = state.get("consent_ttl_s") if state else None
    if saved:
        try:
            ttl = float(saved)
        except ValueError:
            pass  # a damaged saved value: the setting's
    if not math.isfinite(ttl) or ttl <= 0:
        return MAX_CONSENT_TTL_S
    return min(ttl, MAX_CONSENT_TTL_S)
