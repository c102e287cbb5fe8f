"""Whether a ledger is damaged: the full verify, and the quick check opening and writers run.

The quick check re-hashes only the events after the verified-through checkpoint
(``checkpoint.py``), and only when every sentinel says the rest cannot have changed; any doubt
sends it to a full verify, which alone decides what the damage is. The sentinels, cheapest
first, and what each one catches:

- the checkpoint file itself: removed or spoilt → verify everything (it costs time, no more);
- the files' seal against the one musicapp recorded after its last commit or close: any write
  by another program (an edit with the sqlite3 shell, a hex editor, a copy or backup put in
  place) changes the inode, size, modification or change time;
- SQLite's schema cookie (``PRAGMA schema_version``): an UPDATE or DELETE needs the append-only
  triggers dropped, and dropping or creating a trigger bumps the cookie even when the same
  trigger is put back; the guards themselves must be there with the text musicapp created;
- the rows: their count must equal the newest seq and the first must be 1 (nothing deleted,
  nothing inserted below the head), and the checkpoint's event must still have its hash;
- the head anchor (``anchor.py``): the newest events were not cut off or replaced;
- then the events after the checkpoint are hashed and linked onto it.

A crash mid-append is not damage: SQLite rolls the half-written transaction back, and at worst
the seal or anchor lags one commit, which sends the check to a full verify that finds nothing.
What this cannot catch, like the anchor: someone who edits the database *and* rewrites these
files to match, or resets the schema cookie and the file times within one clock tick. A full
``verify()`` (``musicapp ledger verify``) still re-hashes everything.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from musicapp.ledger.anchor import Anchor, AnchorUnreadable, read_anchor
from musicapp.ledger.canonical import GENESIS_HASH
from musicapp.ledger.chain import ChainChecker, ChainReport
from musicapp.ledger.checkpoint import (
    Checkpoint,
    checkpoint_path,
    files_seal,
    read_checkpoint,
)
from musicapp.ledger.damage import Damage, read_acknowledgements
from musicapp.ledger.schema import COLUMNS, guards_changed

AnchorState = Anchor | AnchorUnreadable | None


@dataclass(frozen=True)
class CheckResult:
    """What a check found, and how much work it took."""

    damage: Damage | None
    hashed: int  # events whose hash this check recomputed
    full: bool  # True when every event was verified
    reason: str  # why everything was verified, or what the quick check covered
    seal: str  # the files' seal when the check began
    checkpoint: Checkpoint | None  # what may be recorded as verified (None while damaged)


def load_anchor(path: Path) -> AnchorState:
    try:
        return read_anchor(path)
    except AnchorUnreadable as exc:
        return exc


def anchor_problem(
    state: AnchorState, db: sqlite3.Connection, head: tuple[int, str] | None
) -> str | None:
    """How the newest events disagree with the head anchor, in a few words; None if they agree."""
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


def full_verify(anchor_file: Path, reader: Callable[[], sqlite3.Connection]) -> ChainReport:
    """Recompute every hash and link, and compare the newest event with the head anchor."""
    # The anchor is read before the snapshot starts: it is written after each commit, so
    # every event it names is inside the snapshot and a concurrent append cannot make the
    # database look shorter than its anchor.
    anchor: Anchor | None = None
    anchor_error: str | None = None
    try:
        anchor = read_anchor(anchor_file)
    except AnchorUnreadable as exc:
        anchor_error = str(exc)
    db = reader()
    checker = ChainChecker(anchor.seq if anchor else None)  # until the records on file are read
    try:
        db.execute("BEGIN")  # one snapshot for the records on file and the rows they vouch for
        checker = ChainChecker(anchor.seq if anchor else None, read_acknowledgements(db))
        changed = guards_changed(db)
        if changed:
            present = {
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
            }
            gone = all(name not in present for name in changed)
            checker.guards_changed(
                changed,
                f"the append-only guards were {'removed from' if gone else 'changed in'} the "
                f"database ({', '.join(changed)}): it was changed outside musicapp",
            )
        for row in db.execute(f"SELECT {COLUMNS} FROM events ORDER BY seq"):
            checker.feed(row)
    except sqlite3.Error as exc:
        checker.note(f"the events could not be read ({exc})")
    finally:
        db.close()
    return checker.finish(anchor, anchor_error, str(anchor_file))


def damage_of(report: ChainReport, path: Path, cli_args: str = "") -> Damage | None:
    if report.ok:
        return None
    return Damage(
        path=path,
        findings=report.findings,
        rows=report.unacknowledged,
        anchor=report.anchor_problem,
        guards=report.guards,
        notes=report.notes,
        problems=tuple(report.problems),
        cli_args=cli_args,
    )


def _quick(
    db: sqlite3.Connection, anchor: AnchorState, saved: Checkpoint | None, seal: str
) -> tuple[int, str | None, Checkpoint | None]:
    """(events hashed, why a full verify is needed or None, the checkpoint now warranted)."""
    if saved is None:
        return 0, "no verified-through checkpoint", None
    if seal != saved.seal and not (isinstance(anchor, Anchor) and anchor.seal == seal):
        return 0, "the database files changed since musicapp last wrote or closed them", None
    schema = int(db.execute("PRAGMA schema_version").fetchone()[0])
    if schema != saved.schema:
        return 0, "the database schema changed (triggers dropped or created)", None
    if guards_changed(db):
        return 0, "the append-only guards are not as musicapp created them", None
    head = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    first = db.execute("SELECT seq FROM events ORDER BY seq LIMIT 1").fetchone()
    count = int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    last = head[0] if head else 0
    if count != last or (first is not None and first[0] != 1):
        return 0, "rows are missing or out of place", None
    if saved.seq > last:
        return 0, f"the ledger is shorter than its checkpoint (seq {saved.seq})", None
    if saved.seq:
        row = db.execute("SELECT hash FROM events WHERE seq = ?", (saved.seq,)).fetchone()
        if row is None or row[0] != saved.hash:
            return 0, f"event {saved.seq}, verified before, changed", None
    if anchor_problem(anchor, db, head) is not None:
        return 0, "the head anchor does not match", None
    checker = ChainChecker(start=(saved.seq, saved.hash))
    for row in db.execute(f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq", (saved.seq,)):
        checker.feed(row)
    if checker.found:
        return checker.checked, "damage in the events after the checkpoint", None
    top_hash = str(head[1]) if head else GENESIS_HASH
    return checker.checked, None, Checkpoint(last, top_hash, schema, seal)


def check(
    path: Path,
    anchor_file: Path,
    db: sqlite3.Connection,
    reader: Callable[[], sqlite3.Connection],
    cli_args: str = "",
) -> CheckResult:
    """Find out whether the ledger is damaged, re-hashing as little as the sentinels allow.

    ``db`` is the ledger's own connection (the caller holds its lock, and runs this inside a
    transaction so the cheap queries see one snapshot); ``reader`` opens another for a full
    verify.
    """
    seal = files_seal(path)
    saved = read_checkpoint(checkpoint_path(path))
    hashed, why, warranted = _quick(db, load_anchor(anchor_file), saved, seal)
    if why is None:
        since = saved.seq if saved else 0
        covered = f"{hashed} event(s) after the checkpoint at seq {since} re-hashed"
        return CheckResult(None, hashed, False, covered, seal, warranted)
    report = full_verify(anchor_file, reader)
    damage = damage_of(report, path, cli_args)
    schema = int(db.execute("PRAGMA schema_version").fetchone()[0])
    warranted = None
    if damage is None:
        warranted = Checkpoint(*(report.head or (0, GENESIS_HASH)), schema, seal)
    return CheckResult(damage, report.checked, True, why, seal, warranted)
