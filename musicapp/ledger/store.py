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

Because the next append would overwrite the anchor and with it the evidence, ``append`` refuses
(LedgerError) while the database does not match its anchor. ``reanchor(reason)`` accepts the
ledger as it is and records that decision as an ``anchor_reset`` event.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from musicapp.ledger.anchor import (
    Anchor,
    AnchorUnreadable,
    AnchorWriter,
    anchor_path,
    read_anchor,
    write_anchor,
)
from musicapp.ledger.canonical import (
    GENESIS_HASH,
    CanonicalError,
    canonical_json,
    event_hash_from_json,
)
from musicapp.ledger.chain import ChainChecker, ChainReport
from musicapp.ledger.event import Event, LedgerError, StoredEvent
from musicapp.ledger.schema import COLUMNS, GUARDS, migrate

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
    """An append-only, hash-chained event log in one SQLite file. Safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.anchor_path = anchor_path(self.path)
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
            except OSError as exc:
                self.close()
                raise LedgerError(
                    f"ledger {self.path}: cannot write {self.anchor_path} ({exc})"
                ) from exc
        self._anchor: Anchor | AnchorUnreadable | None = self._load_anchor()

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

    def _load_anchor(self) -> Anchor | AnchorUnreadable | None:
        try:
            return read_anchor(self.anchor_path)
        except AnchorUnreadable as exc:
            return exc

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise LedgerError(f"ledger {self.path} is closed")
        return self._db

    # -- writing -------------------------------------------------------------------------------

    def append(self, kind: str, payload: dict[str, Any], event_id: str | None = None) -> Event:
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
        self, items: Sequence[tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str | None]]
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

    def reanchor(self, reason: str) -> Event:
        """Accept the ledger as it is after a head-anchor mismatch; the decision is an event."""
        with self._lock:
            state = self._anchor
            if isinstance(state, AnchorUnreadable):
                previous: Any = f"unreadable: {state}"
            elif state is None:
                previous = None
            else:
                previous = {"seq": state.seq, "hash": state.hash}
            item = self._prepare(
                "anchor_reset", {"reason": reason, "previous_anchor": previous}, None
            )
            return self._write([item], check_anchor=False)[0]

    def _prepare(
        self, kind: str, payload: dict[str, Any], event_id: str | None = None
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
            rows: list[tuple[int, str, str, str, str, str, str]] = []
            item: _Prepared | None = None
            try:
                head = db.execute(
                    "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                if check_anchor:
                    self._check_anchor(db, head)
                seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
                for item in items:
                    digest = event_hash_from_json(
                        seq, item.event_id, item.kind, item.ts, item.payload_json, prev_hash
                    )
                    row = (
                        seq,
                        item.event_id,
                        item.kind,
                        item.ts,
                        item.payload_json,
                        prev_hash,
                        digest,
                    )
                    self._insert(db, row)
                    rows.append(row)
                    seq, prev_hash = seq + 1, digest
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
            last = rows[-1]
            self._anchor = Anchor(last[0], last[6])
            try:
                self._anchor_writer.write(self._anchor)
            except OSError as exc:
                # The events are committed; a stale anchor only weakens the truncation check.
                log.warning("ledger %s: could not update the head anchor: %s", self.path, exc)
        return [
            Event(seq, event_id, kind, ts, json.loads(payload_json), prev_hash, digest)
            for seq, event_id, kind, ts, payload_json, prev_hash, digest in rows
        ]

    def _check_anchor(self, db: sqlite3.Connection, head: tuple[int, str] | None) -> None:
        problem = self._anchor_problem(db, head)
        if problem is not None:
            # Another process may have moved the anchor on since we read it: look again.
            self._anchor = self._load_anchor()
            problem = self._anchor_problem(db, head)
        if problem is not None:
            raise LedgerError(
                f"ledger {self.path} does not match its head anchor {self.anchor_path}: {problem}. "
                f"Appending would overwrite that evidence, so nothing was recorded. Run verify() "
                f"to see what happened; restore the ledger from a backup, or call reanchor() to "
                f"accept it as it is (that decision is recorded in the ledger)."
            )

    def _anchor_problem(self, db: sqlite3.Connection, head: tuple[int, str] | None) -> str | None:
        state = self._anchor
        if isinstance(state, AnchorUnreadable):
            return f"the anchor is unreadable ({state})"
        if state is None:
            return None if head is None else "the anchor is missing but the ledger has events"
        if state.seq == 0:
            return None
        if head is None or head[0] < state.seq:
            last = head[0] if head else 0
            return f"the last {state.seq - last} event(s) were dropped (head says seq {state.seq})"
        if head[0] == state.seq:  # the usual case: the anchor names the newest event
            return (
                None
                if head[1] == state.hash
                else f"event {state.seq} is not the one the anchor recorded"
            )
        row = db.execute("SELECT hash FROM events WHERE seq = ?", (state.seq,)).fetchone()
        if row is None or row[0] != state.hash:
            return f"event {state.seq} is not the one the anchor recorded"
        return None

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
        # The anchor is read before the snapshot starts: it is written after each commit, so
        # every event it names is inside the snapshot and a concurrent append cannot make the
        # database look shorter than its anchor.
        anchor: Anchor | None = None
        anchor_error: str | None = None
        try:
            anchor = read_anchor(self.anchor_path)
        except AnchorUnreadable as exc:
            anchor_error = str(exc)
        checker = ChainChecker(anchor.seq if anchor else None)
        db = self._reader()
        try:
            triggers = {
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            }
            removed = [g for g in GUARDS if g not in triggers]
            if removed:
                checker.note(
                    f"the append-only guards were removed from the database ({', '.join(removed)}): "
                    f"it was changed outside musicapp"
                )
            for row in db.execute(f"SELECT {COLUMNS} FROM events ORDER BY seq"):
                checker.feed(row)
        except sqlite3.Error as exc:
            checker.note(f"the events could not be read ({exc})")
        finally:
            db.close()
        return checker.finish(anchor, anchor_error, str(self.anchor_path))

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
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
