"""The sync state's rooms: the receipts the server gave, and the feed's backlog (consent and
songs the catalogue cannot take yet). Each part works on its ``SyncState``'s one connection
under its lock; ``state.receipts`` and ``state.backlog`` hold them (so ``SyncState`` keeps to
the key/value facts, the quarantine and starting over: no class over 25 public methods).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from musicapp.sync.state import SyncState


class Receipts:
    """The server's receipts, by ledger seq, and the stream base after a start over."""

    def __init__(self, state: SyncState) -> None:
        self._state = state

    def last_receipted_seq(self) -> int:
        with self._state._lock:
            row = self._state._db.execute("SELECT MAX(seq) FROM receipts").fetchone()
        seq = int(row[0] or 0)
        if seq == 0 and (base := self._stream_base()) is not None:
            return base[0]
        return seq

    def set_stream_base(self, server_key: str, seq: int, event_hash: str) -> None:
        """After a start over: the server with ``server_key`` logged this ledger up to ``seq``
        (``event_hash``) under the old device stream; the new stream continues from there."""
        self._state.set(
            "stream_base", json.dumps({"server_key": server_key, "seq": seq, "hash": event_hash})
        )

    def _stream_base(self) -> tuple[int, str] | None:
        """(seq, hash) the stream starts after, when the pinned server is the one that logged
        them; None for a new server (which gets the whole ledger)."""
        text = self._state.get("stream_base")
        if not text:
            return None
        base = json.loads(text)
        if base.get("server_key") != self._state.get("server_key"):
            return None
        return int(base["seq"]), str(base["hash"])

    def store_receipts(self, rows: list[tuple[int, str, str, dict[str, Any]]]) -> None:
        """(seq, event id, event hash, receipt) rows, in one transaction; re-storing is a no-op."""
        now = datetime.now(UTC).isoformat()
        with self._state._lock:
            self._state._db.execute("BEGIN IMMEDIATE")
            try:
                self._state._db.executemany(
                    "INSERT OR IGNORE INTO receipts (seq, event_id, event_hash, receipt, stored_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(s, i, h, json.dumps(r, sort_keys=True), now) for s, i, h, r in rows],
                )
                self._state._db.execute("COMMIT")
            except BaseException:
                self._state._db.execute("ROLLBACK")
                raise

    def receipt(self, seq: int) -> dict[str, Any] | None:
        with self._state._lock:
            row = self._state._db.execute(
                "SELECT receipt FROM receipts WHERE seq = ?", (seq,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def receipted_hash(self, seq: int) -> str | None:
        """The event hash the server receipted at ``seq`` (or logged there under this folder's
        previous device stream: the stream base), or None."""
        with self._state._lock:
            row = self._state._db.execute(
                "SELECT event_hash FROM receipts WHERE seq = ?", (seq,)
            ).fetchone()
        if row is None:
            base = self._stream_base()
            return base[1] if base is not None and base[0] == seq else None
        return str(row[0])

    def receipt_count(self) -> int:
        with self._state._lock:
            return int(self._state._db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0])


class FeedBacklog:
    """Feed items the catalogue cannot take yet: consent for songs it lacks, and songs only
    the server knows."""

    def __init__(self, state: SyncState) -> None:
        self._state = state

    def defer_consent(self, data: dict[str, Any]) -> None:
        with self._state._lock:
            self._state._db.execute(
                "INSERT OR IGNORE INTO deferred_consent (song_id, holder_id, version, data) "
                "VALUES (?, ?, ?, ?)",
                (data["song_id"], data["holder_id"], int(data["version"]), json.dumps(data)),
            )

    def deferred_consent(self) -> list[dict[str, Any]]:
        with self._state._lock:
            found = self._state._db.execute(
                "SELECT data FROM deferred_consent ORDER BY song_id, holder_id, version"
            ).fetchall()
        return [json.loads(r[0]) for r in found]

    def drop_deferred(self, song_id: str, holder_id: str, version: int) -> None:
        with self._state._lock:
            self._state._db.execute(
                "DELETE FROM deferred_consent WHERE song_id = ? AND holder_id = ? AND version = ?",
                (song_id, holder_id, version),
            )

    def remember_song(self, data: dict[str, Any]) -> None:
        with self._state._lock:
            self._state._db.execute(
                "INSERT INTO remote_songs (id, data) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                (data["id"], json.dumps(data)),
            )

    def remote_song_ids(self) -> list[str]:
        with self._state._lock:
            return [
                r[0] for r in self._state._db.execute("SELECT id FROM remote_songs ORDER BY id")
            ]
