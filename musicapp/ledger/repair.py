"""Putting damage on record so the chain can go on: ``ledger repair`` and ``ledger reanchor``.

Neither edits nor deletes anything already in the ledger. Each verifies the whole ledger under
the write lock, then appends one event saying what it found, in the same transaction as what
it does, so the record exists before the repair takes effect:

- ``repair`` writes a ``ledger_repair`` event listing the damage in the rows (each finding with
  its seq, its key and, for an edit, the stored and the recomputed hash; a sweep when there are
  more than ``damage.KEYS_LIMIT``), puts back append-only guards that were removed or changed,
  and, if the head anchor was out of step too, records the old anchor and the head it accepts.
  The damaged events stay as they are; later checks report them as acknowledged.
- ``reanchor`` is for a ledger whose rows are intact but whose head anchor disagrees (a lost or
  replaced anchor file, newest events cut off, a backup put back): a ``ledger_reanchor`` event
  records the old anchor and the head accepted in its place.

Both refuse, saying why, when there is nothing for them to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.ledger import integrity
from musicapp.ledger.anchor import Anchor, AnchorUnreadable
from musicapp.ledger.canonical import GENESIS_HASH
from musicapp.ledger.chain import ChainReport
from musicapp.ledger.damage import KEYS_LIMIT, REANCHOR_KIND, REPAIR_KIND
from musicapp.ledger.event import Event, LedgerError
from musicapp.ledger.kinds import strip_folder
from musicapp.ledger.schema import GUARD_SQL

if TYPE_CHECKING:
    from musicapp.ledger.store import Ledger

Head = tuple[int, str] | None
# What to record, given the full verify and the head: (kind, payload, guards to put back).
Decision = Callable[[ChainReport, Head], tuple[str, dict[str, Any], tuple[str, ...]]]


def _anchor_record(ledger: Ledger, report: ChainReport, head: Head) -> dict[str, Any]:
    state = integrity.load_anchor(ledger.anchor_path)
    old: Any
    if isinstance(state, AnchorUnreadable):
        old = f"unreadable: {state}"
    elif isinstance(state, Anchor):
        old = {"seq": state.seq, "hash": state.hash}
    else:
        old = None
    seq, hash_ = head if head else (0, GENESIS_HASH)
    folder = Path(ledger.path).parent
    return {
        # The problem names the anchor file: by its name, since the event leaves this machine.
        "problem": None
        if report.anchor_problem is None
        else strip_folder(report.anchor_problem, folder),
        "old_anchor": strip_folder(old, folder) if isinstance(old, str) else old,
        "new_anchor": {"seq": seq, "hash": hash_},
    }


def refusal(ledger: Ledger, report: ChainReport, repair: bool) -> str | None:
    """Why ``repair`` (or ``reanchor``) cannot or need not act on ``report``; None if it can."""
    where = f"ledger {ledger.path}"
    if report.notes:
        return f"{where}: {report.notes[0]}; that cannot be put on record: restore it from a backup"
    rows = bool(report.unacknowledged or report.guards)
    if repair and not rows:
        intact = f"{where}: nothing to repair: its {report.checked} events are intact"
        if report.acknowledged:
            intact += " (earlier damage is already on record)"
        if report.anchor_problem:
            return (
                f"{intact}, but it does not match its head anchor ({report.anchor_problem}). "
                f"Run `musicapp ledger reanchor{ledger.cli_args}` to accept it as it now ends."
            )
        return intact
    if not repair and rows:
        return (
            f"{where}: its events are damaged, not only its head anchor; run "
            f"`musicapp ledger repair{ledger.cli_args}`, which puts that damage on record and "
            f"accepts the head too"
        )
    if not repair and not report.anchor_problem:
        seq = report.head[0] if report.head else 0
        return f"{where}: nothing to reanchor: it matches its head anchor (seq {seq})"
    return None


def repair(ledger: Ledger, reason: str = "") -> Event:
    """Put the damage in the rows (and the anchor, if out of step too) on record."""

    def decide(report: ChainReport, head: Head) -> tuple[str, dict[str, Any], tuple[str, ...]]:
        why = refusal(ledger, report, repair=True)
        if why is not None:
            raise LedgerError(why)
        payload: dict[str, Any] = {
            "reason": reason,
            "checked": report.checked,
            "damage": [f.record() for f in report.findings[:KEYS_LIMIT]],
            "damage_count": report.unacknowledged,
            "guards_restored": list(report.guards),
            "anchor": _anchor_record(ledger, report, head) if report.anchor_problem else None,
        }
        if report.unacknowledged > KEYS_LIMIT:
            found, digest = report.sweep
            payload["sweep"] = {"findings": found, "sha256": digest}
        return REPAIR_KIND, payload, report.guards

    return _record(ledger, decide)


def reanchor(ledger: Ledger, reason: str = "") -> Event:
    """Accept the ledger as it now ends when only its head anchor disagrees."""

    def decide(report: ChainReport, head: Head) -> tuple[str, dict[str, Any], tuple[str, ...]]:
        why = refusal(ledger, report, repair=False)
        if why is not None:
            raise LedgerError(why)
        payload = {"reason": reason, "checked": report.checked}
        return REANCHOR_KIND, payload | _anchor_record(ledger, report, head), ()

    return _record(ledger, decide)


def _record(ledger: Ledger, decide: Decision) -> Event:
    """Verify under the write lock, then write the decided event (and put guards back)."""
    with ledger._lock:
        db = ledger._conn()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise LedgerError(f"ledger {ledger.path}: cannot start a write ({exc})") from exc
        try:
            report = ledger.verify()
            head = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            kind, payload, guards = decide(report, head)
            for name in guards:
                db.execute(f"DROP TRIGGER IF EXISTS {name}")
                db.execute(GUARD_SQL[name])
            seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
            row = ledger._link(db, seq, prev_hash, ledger._prepare(kind, payload))
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise LedgerError(
                    f"ledger {ledger.path}: could not record the repair ({exc})"
                ) from exc
            raise
        ledger._committed([row])
        ledger._watch.settled(db, row)
    return ledger._event(row)
