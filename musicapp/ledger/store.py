"""The attribution ledger: an append-only, hash-chained log of events in SQLite.

Every event carries the sha256 of the one before it (``prev_hash``; the first points at 64
zeros) and its own ``hash`` over the canonical encoding of ``{seq, id, kind, ts, payload,
prev_hash}`` (see ``canonical.py``). ``append`` commits before it returns (WAL,
``synchronous=FULL``), so an event the caller saw is on disk. Nothing updates or deletes rows;
SQLite triggers refuse it, and ``verify()`` reports it if someone removed them to do it anyway.

What ``verify()`` catches, and what it cannot:

- An edited event (its hash no longer matches its contents), a dropped event (a gap in ``seq``
  and a broken link), a changed order (broken links; a row moved to another ``seq`` is named as
  such), and an event edited *and re-hashed* (the next event's link breaks).
- Dropping the newest events leaves no gap and no broken link, so the newest ``(seq, hash)`` is
  also kept in a sidecar file ``<ledger>.head`` (``anchor.py``), written atomically after each
  commit; ``verify()`` reports a database shorter than, or different from, its anchor.
- It cannot catch someone who changes the database *and* the anchor to match: drops the newest
  events and writes an anchor for the new last one, or rewrites the chain from some event on and
  anchors the forged head. The hashing (and the anchor's checksum) is public, so anyone who can
  write both files can forge a consistent history. Only a witness off this machine can catch
  that: the rights server's signed receipts for each event, which a later issue adds.
- The anchor is not synced to disk on every append (the event itself is), and two processes
  appending at once may leave it one event behind; so after a power cut or such a race it may
  lag a few events. A lagging anchor weakens the check for those events, never raises a false
  alarm.

Damage is looked for when the ledger opens, not only when someone runs ``verify()``: the
quick check in ``integrity.py`` re-hashes only the events after the verified-through checkpoint
(``checkpoint.py``) when its sentinels (the files' seal, the schema cookie, the guards, the row
count, the anchor) say nothing else changed, and verifies everything otherwise. Before each
write the ledger also compares the files' seal with the one it left after its own last commit,
so an edit made while it is open is caught before anything is added on top of it.

While the ledger is damaged, ``append`` and ``append_many`` refuse (``LedgerDamaged``, naming
the damage and the commands that put it on record); reading stays possible, because the next
append would overwrite the anchor and bury the evidence. ``repair(reason)`` and
``reanchor(reason)`` (``repair.py``) record what they found as an event and let the chain go on.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from musicapp.ledger import integrity
from musicapp.ledger.anchor import Anchor, AnchorWriter, write_anchor
from musicapp.ledger.canonical import (
    GENESIS_HASH,
    CanonicalError,
    canonical_json,
    event_hash_from_json,
)
from musicapp.ledger.chain import ChainReport
from musicapp.ledger.damage import Damage
from musicapp.ledger.event import Event, LedgerError, StoredEvent
from musicapp.ledger.schema import COLUMNS, migrate
from musicapp.ledger.watch import DamageWatch

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class _Prepared:
    """An event checked and encoded, not yet placed in the chain."""

    kind: str
    event_id: str
    ts: str
    payload_json: str


class _Pending:
    """One ``append`` waiting in the group-commit queue (its fields change under the queue lock)."""

    __slots__ = ("done", "error", "event", "item")

    def __init__(self, item: _Prepared) -> None:
        self.item = item
        self.done = False
        self.event: Event | None = None
        self.error: BaseException | None = None

    def finish(self, event: Event | None = None, error: BaseException | None = None) -> None:
        self.event, self.error, self.done = event, error, True


class Ledger:
    """An append-only, hash-chained event log in one SQLite file. Safe to share between threads.

    ``cli_args`` is what the commands named in damage messages need to find this ledger (e.g.
    ``" --data-dir D"``; the app's context sets it).
    """

    def __init__(self, path: Path, *, cli_args: str = "") -> None:
        self.path = Path(path)
        self._watch = DamageWatch(self.path, cli_args)
        self.anchor_path = self._watch.anchor_path
        self.checkpoint_path = self._watch.checkpoint_path
        self._anchor_writer = AnchorWriter(self.anchor_path)
        # One lock for the one connection: appends from the GUI and from workers are serialised
        # here, and across processes by SQLite's write lock (BEGIN IMMEDIATE).
        self._lock = threading.RLock()
        # Group commit: appends queue here while another thread writes (see ``append``).
        self._queue_cv = threading.Condition(threading.Lock())
        self._queue: list[_Pending] = []
        self._writing = False
        if self.path.is_dir():
            raise LedgerError(f"ledger {self.path}: is a folder, not a ledger file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"ledger {self.path}: cannot create its folder ({exc})") from exc
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._connect()
            created = migrate(self._db, self.path)
        except LedgerError:
            self.close()
            raise
        except sqlite3.Error as exc:
            self.close()
            raise LedgerError(
                f"ledger {self.path}: not a readable ledger database ({exc})"
            ) from exc
        if created and not self.anchor_path.exists():
            try:
                write_anchor(self.anchor_path, Anchor(0, GENESIS_HASH), sync=True)
                self._watch.created(self._db)
            except OSError as exc:
                self.close()
                raise LedgerError(
                    f"ledger {self.path}: cannot write {self.anchor_path} ({exc})"
                ) from exc
        try:
            self.check()
        except LedgerError:
            self.close()
            raise
        except sqlite3.Error as exc:
            self.close()
            raise LedgerError(f"ledger {self.path}: cannot be checked ({exc})") from exc

    # -- opening -------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise LedgerError(f"ledger {self.path} is closed")
        return self._db

    # -- writing -------------------------------------------------------------------------------

    def append(self, kind: str, payload: Mapping[str, Any], event_id: str | None = None) -> Event:
        """Record one event; it is committed to disk when this returns.

        Appends from several threads at once share commits (group commit): while one thread
        writes, the others queue up, and the next writer commits everything queued in one
        transaction. Each caller still returns only after its own event is committed, and an
        event that cannot be recorded fails only its own caller.
        """
        pending = _Pending(self._prepare(kind, payload, event_id))
        group: list[_Pending] = []
        with self._queue_cv:
            self._queue.append(pending)
            while not pending.done and self._writing:
                self._queue_cv.wait()
            if not pending.done:
                # No writer, and this event is still queued: write it and whatever queued with it.
                self._writing = True
                group, self._queue = self._queue, []
        if group:
            try:
                self._commit_group(group)
            finally:
                with self._queue_cv:
                    for other in group:
                        if not other.done:  # interrupted (KeyboardInterrupt and the like)
                            other.finish(
                                error=LedgerError(
                                    f"{other.item.kind} event: not recorded; the write that "
                                    f"carried it was interrupted"
                                )
                            )
                    self._writing = False
                    self._queue_cv.notify_all()
        if pending.error is not None:
            raise pending.error
        assert pending.event is not None
        return pending.event

    def append_many(
        self,
        items: Sequence[tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], str | None]],
    ) -> list[Event]:
        """Record several events in one transaction: all of them, in order, or none.

        ``items`` are ``(kind, payload)`` or ``(kind, payload, event_id)``. The events chain
        exactly as if appended one by one, but share one commit (one fsync) and one anchor write,
        so a batch costs little more than a single event. They are committed to disk when this
        returns; if any of them cannot be recorded (a bad payload, an id already in the ledger
        or twice in the batch), LedgerError names it and nothing of the batch is recorded.
        """
        prepared: list[_Prepared] = []
        for n, item in enumerate(items):
            if not isinstance(item, tuple) or len(item) not in (2, 3):
                raise LedgerError(
                    f"append_many: item {n} must be (kind, payload) or (kind, payload, event_id),"
                    f" got {item!r}"
                )
            prepared.append(self._prepare(*item))
        if not prepared:
            return []
        return self._write(prepared, check_anchor=True)

    def repair(self, reason: str = "") -> Event:
        """Put the damage found now on record as a ``ledger_repair`` event, so the chain can go on.

        Nothing already in the ledger changes; see ``repair.py``. LedgerError when there is
        nothing to repair.
        """
        from musicapp.ledger.repair import repair

        return repair(self, reason)

    def reanchor(self, reason: str = "") -> Event:
        """Accept the ledger as it ends after a head-anchor mismatch; the decision is an event."""
        from musicapp.ledger.repair import reanchor

        return reanchor(self, reason)

    def _prepare(
        self, kind: str, payload: Mapping[str, Any], event_id: str | None = None
    ) -> _Prepared:
        """Check and encode one event (everything but its place in the chain)."""
        if not isinstance(kind, str) or not kind.strip():
            raise LedgerError(f"ledger event kind must be a non-empty string, got {kind!r}")
        if not isinstance(payload, dict):
            raise LedgerError(f"{kind} event: payload must be a dict, got {type(payload).__name__}")
        try:
            payload_json = canonical_json(payload, "payload")
        except CanonicalError as exc:
            raise LedgerError(f"{kind} event: {exc}") from None
        if event_id is None:
            event_id = uuid.uuid4().hex
        elif not isinstance(event_id, str) or not event_id.strip():
            raise LedgerError(
                f"{kind} event: event id must be a non-empty string, got {event_id!r}"
            )
        return _Prepared(kind, event_id, _now(), payload_json)

    def _commit_group(self, group: list[_Pending]) -> None:
        """Commit a group of queued appends; each one gets its event or its own error."""
        if len(group) > 1:
            try:
                events = self._write([p.item for p in group], check_anchor=True)
            except LedgerError:
                pass  # one of them is bad (or the ledger is): find out one by one, below
            else:
                with self._queue_cv:
                    for p, event in zip(group, events, strict=True):
                        p.finish(event=event)
                return
        for p in group:
            try:
                event = self._write([p.item], check_anchor=True)[0]
            except LedgerError as exc:
                with self._queue_cv:
                    p.finish(error=exc)
            else:
                with self._queue_cv:
                    p.finish(event=event)

    def _insert(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> None:
        db.execute(f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def _write(self, items: Sequence[_Prepared], check_anchor: bool) -> list[Event]:
        """Chain ``items`` onto the head and commit them in one transaction, or none of them."""
        what = (
            f"the {items[0].kind} event" if len(items) == 1 else f"a batch of {len(items)} events"
        )
        with self._lock:
            db = self._conn()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise LedgerError(f"ledger {self.path}: cannot start a write ({exc})") from exc
            item: _Prepared | None = None
            try:
                self._watch.before_write(db, self._reader)
                head = db.execute(
                    "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                if check_anchor:
                    self._watch.check_anchor(db, head)
                rows = []
                seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
                for item in items:  # the loop names the item a failed insert was for
                    rows.append(self._link(db, seq, prev_hash, item))
                    seq, prev_hash = seq + 1, rows[-1][6]
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if (
                    isinstance(exc, sqlite3.IntegrityError)
                    and "events.id" in str(exc)
                    and item is not None
                ):
                    where = "" if len(items) == 1 else f" (nothing of {what} was recorded)"
                    raise LedgerError(
                        f"{item.kind} event: id {item.event_id} is already in the ledger{where}"
                    ) from None
                if isinstance(exc, sqlite3.Error):
                    raise LedgerError(
                        f"ledger {self.path}: could not record {what} ({exc})"
                    ) from exc
                raise
            self._committed(rows)
        return [
            Event(seq, event_id, kind, ts, json.loads(payload_json), prev_hash, digest)
            for seq, event_id, kind, ts, payload_json, prev_hash, digest in rows
        ]

    def _link(
        self, db: sqlite3.Connection, seq: int, prev_hash: str, item: _Prepared
    ) -> tuple[int, str, str, str, str, str, str]:
        """Insert ``item`` at ``seq`` after ``prev_hash``, inside the caller's transaction."""
        digest = event_hash_from_json(
            seq, item.event_id, item.kind, item.ts, item.payload_json, prev_hash
        )
        row = (seq, item.event_id, item.kind, item.ts, item.payload_json, prev_hash, digest)
        self._insert(db, row)
        return row

    def _committed(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """After a commit: the files' new seal goes into the head anchor."""
        try:
            self._anchor_writer.write(self._watch.committed(rows[-1]))
        except OSError as exc:
            # The events are committed; a stale anchor only weakens the truncation check.
            log.warning("ledger %s: could not update the head anchor: %s", self.path, exc)

    # -- damage --------------------------------------------------------------------------------

    @property
    def cli_args(self) -> str:
        return self._watch.cli_args

    @property
    def damage(self) -> Damage | None:
        """The damage the last check found (None: none); reading it does no I/O."""
        return self._watch.damage

    @property
    def last_check(self) -> integrity.CheckResult | None:
        """The last check's result: what it found and how many events it hashed."""
        return self._watch.last_check

    def check(self) -> integrity.CheckResult:
        """Look for damage now, re-hashing only what the sentinels cannot vouch for."""
        with self._lock:
            return self._watch.check(self._conn(), self._reader)

    def refuse_if_damaged(self) -> None:
        """LedgerDamaged while the ledger is damaged (looking again if its files changed)."""
        with self._lock:
            self._watch.refuse_if_damaged(self._conn(), self._reader)

    # -- reading -------------------------------------------------------------------------------

    def _event(self, row: tuple[Any, ...]) -> Event:
        seq, event_id, kind, ts, payload, prev_hash, digest = row
        try:
            data = json.loads(payload)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (TypeError, ValueError) as exc:
            raise LedgerError(
                f"ledger {self.path}: event {seq} has an unreadable payload ({exc}); run verify()"
            ) from None
        return Event(seq, event_id, kind, ts, data, prev_hash, digest)

    def get(self, event_id: str) -> Event | None:
        with self._lock:
            row = (
                self._conn()
                .execute(f"SELECT {COLUMNS} FROM events WHERE id = ?", (event_id,))
                .fetchone()
            )
        return None if row is None else self._event(row)

    def head(self) -> Event | None:
        """The newest event, or None for an empty ledger."""
        with self._lock:
            row = (
                self._conn()
                .execute(f"SELECT {COLUMNS} FROM events ORDER BY seq DESC LIMIT 1")
                .fetchone()
            )
        return None if row is None else self._event(row)

    def count(self) -> int:
        with self._lock:
            return int(self._conn().execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def _reader(self) -> sqlite3.Connection:
        # Streaming reads get a connection of their own: one SELECT is one consistent snapshot
        # (WAL), and appends from other threads go on meanwhile without waiting for the reader.
        self._conn()
        try:
            return sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise LedgerError(f"ledger {self.path}: cannot open for reading ({exc})") from exc

    def events(self, kind: str | None = None, since_seq: int = 0) -> Iterator[Event]:
        """Events in seq order, streamed, optionally of one kind and after ``since_seq``."""
        for row in self.stored_events(since_seq, kind):
            yield self._event(row)

    def stored_events(self, since_seq: int = 0, kind: str | None = None) -> Iterator[StoredEvent]:
        """Like ``events``, but as stored: the payload is its canonical text, unparsed."""
        where = "seq > ?" if kind is None else "kind = ? AND seq > ?"
        params: list[object] = [since_seq] if kind is None else [kind, since_seq]
        db = self._reader()
        try:
            for row in db.execute(
                f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY seq", params
            ):
                yield StoredEvent(*row)
        finally:
            db.close()

    # -- checking ------------------------------------------------------------------------------

    def verify(self) -> ChainReport:
        """Recompute every hash and link and compare the newest event with the head anchor."""
        self._conn()
        return integrity.full_verify(self.anchor_path, self._reader)

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                keep = self._watch.closing(self._db)
                self._db.close()
                self._db = None
                if keep is not None:
                    self._watch.closed(keep)
            self._anchor_writer.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"
