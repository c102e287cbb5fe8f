"""Damage found in a ledger, the damage already on record, and the refusal to add to it.

A ``Finding`` is one piece of damage in the rows, pinned to the exact state it was found in by
its ``key`` (an edited event's key holds its stored and its recomputed hash, so editing it again
makes a new finding). ``ledger repair`` writes a ``ledger_repair`` event listing the keys of
the damage it found; later checks count a finding with a listed key, behind that event, as
acknowledged rather than as new damage. A repair that finds more than ``KEYS_LIMIT`` findings
lists the first ones and records a *sweep* instead: how many findings the whole ledger held and
a digest of all their keys, which a later check recomputes at that event; the same damage gives
the same digest, any change to it does not.

``ledger reanchor`` (and the older ``anchor_reset`` event) records that the head anchor was
out of step and the ledger was accepted as it ended; checks list those decisions too.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musicapp.ledger.canonical import event_hash_from_json
from musicapp.ledger.event import LedgerError
from musicapp.ledger.kinds import ANCHOR_RESET, LEDGER_REANCHOR, LEDGER_REPAIR
from musicapp.ledger.schema import COLUMNS

REPAIR_KIND = LEDGER_REPAIR
REANCHOR_KIND = LEDGER_REANCHOR
LEGACY_REANCHOR_KIND = ANCHOR_RESET  # what Ledger.reanchor() wrote before ledger_reanchor
RECORD_KINDS = (REPAIR_KIND, REANCHOR_KIND, LEGACY_REANCHOR_KIND)
# A repair lists at most this many findings by key; past it, a sweep covers them all.
KEYS_LIMIT = 1000
_EDITED = ("edited", "rewritten", "malformed")
_MOVED = ("moved", "out_of_order")


@dataclass(frozen=True)
class Finding:
    """One piece of damage in the rows: what (``kind``), where, its key and its description."""

    kind: str  # edited | rewritten | malformed | moved | out_of_order | missing | link
    seq: int
    key: str
    text: str
    detail: tuple[tuple[str, Any], ...] = ()

    def record(self) -> dict[str, Any]:
        """The finding as a repair event lists it."""
        return {"key": self.key, "problem": self.kind, "seq": self.seq, "text": self.text} | dict(
            self.detail
        )


@dataclass(frozen=True)
class Sweep:
    """A repair that acknowledged more findings than it lists: their number and keys' digest."""

    seq: int
    findings: int
    sha256: str


@dataclass
class Acknowledgements:
    """The damage on record: keys listed by repairs, sweeps, and the anchor decisions."""

    keys: dict[str, int] = field(default_factory=dict)  # key → seq of the repair listing it
    sweeps: list[Sweep] = field(default_factory=list)
    anchor_history: list[str] = field(default_factory=list)


def _anchor_text(anchor: Any) -> str:
    if isinstance(anchor, dict):
        return f"seq {anchor.get('seq')}"
    return "missing" if anchor is None else str(anchor)


def _history_line(seq: int, kind: str, ts: str, payload: dict[str, Any]) -> str | None:
    anchor = payload.get("anchor") if kind == REPAIR_KIND else payload
    if not isinstance(anchor, dict):
        return None
    when = f"event {seq} ({kind}, {ts[:10]})"
    if kind == LEGACY_REANCHOR_KIND:
        old = _anchor_text(anchor.get("previous_anchor"))
        return f"{when}: the ledger was accepted as it was (the head anchor had said {old})"
    new = anchor.get("new_anchor") or {}
    return (
        f"{when}: the ledger was accepted as ending at seq {new.get('seq')} "
        f"({anchor.get('problem', 'head anchor out of step')}; the anchor had said "
        f"{_anchor_text(anchor.get('old_anchor'))})"
    )


def read_acknowledgements(db: sqlite3.Connection) -> Acknowledgements:
    """The repair and reanchor events in ``db``; only those whose own hash holds are trusted."""
    acks = Acknowledgements()
    marks = ", ".join("?" for _ in RECORD_KINDS)
    rows = db.execute(
        f"SELECT {COLUMNS} FROM events WHERE kind IN ({marks}) ORDER BY seq", RECORD_KINDS
    )
    for seq, event_id, kind, ts, payload, prev_hash, stored in rows:
        try:
            if event_hash_from_json(seq, event_id, kind, ts, payload, prev_hash) != stored:
                continue  # an edited record vouches for nothing; the check reports it as edited
            data = json.loads(payload)
        except (TypeError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        for item in data.get("damage") or []:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                acks.keys.setdefault(item["key"], seq)
        sweep = data.get("sweep")
        if isinstance(sweep, dict) and isinstance(sweep.get("findings"), int):
            acks.sweeps.append(Sweep(seq, sweep["findings"], str(sweep.get("sha256"))))
        line = _history_line(seq, kind, ts, data)
        if line is not None:
            acks.anchor_history.append(line)
    return acks


def _ranges(seqs: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s in sorted(set(seqs)):
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def events_text(seqs: list[int], limit: int = 6) -> str:
    """'event 5', 'events 3 to 5 and 9', 'events 1, 4, … and 12 more' for a list of seqs."""
    spans = _ranges(seqs)
    words = [f"{a}" if a == b else f"{a} to {b}" for a, b in spans[:limit]]
    if len(spans) > limit:
        words.append(f"{len(spans) - limit} more")
    if len(words) == 1:
        return f"event {words[0]}" if spans[0][0] == spans[0][1] else f"events {words[0]}"
    return f"events {', '.join(words[:-1])} and {words[-1]}"


def _verb(seqs: list[int], one: str, many: str) -> str:
    return one if len(set(seqs)) == 1 else many


@dataclass(frozen=True)
class Damage:
    """What is wrong with a ledger, as far as it stops new events from being added."""

    path: Path
    findings: tuple[Finding, ...] = ()  # row damage not on record (the first KEYS_LIMIT + 1)
    rows: int = 0  # row findings not on record, in all
    anchor: str | None = None  # how the database and its head anchor disagree
    guards: tuple[str, ...] = ()  # append-only guards missing or changed
    notes: tuple[str, ...] = ()  # anything else (the events could not be read)
    problems: tuple[str, ...] = ()  # every problem, worded as `ledger verify` words it
    cli_args: str = ""  # what the commands need to find this ledger (e.g. " --data-dir D")

    @property
    def repairable(self) -> bool:
        """True when ``ledger repair`` applies; otherwise only the anchor is out of step."""
        return bool(self.rows or self.guards or self.notes)

    def seqs(self) -> list[int]:
        return sorted({f.seq for f in self.findings})

    def what(self) -> str:
        """What is wrong, in one sentence (without the path)."""
        by = {k: [f for f in self.findings if f.kind == k] for k in {f.kind for f in self.findings}}
        edited = [f.seq for k in _EDITED for f in by.get(k, [])]
        moved = [f.seq for k in _MOVED for f in by.get(k, [])]
        missing: list[int] = []
        for f in by.get("missing", []):
            d = dict(f.detail)
            missing += range(d["missing_from"], d["missing_to"] + 1)
        explained = set(moved) | {s + 1 for s in moved} | {s + 1 for s in edited + missing}
        links = [f.seq for f in by.get("link", []) if f.seq not in explained]
        parts = []
        if edited:
            parts.append(f"{events_text(edited)} {_verb(edited, 'was', 'were')} edited")
        if missing:
            parts.append(f"{events_text(missing)} {_verb(missing, 'is', 'are')} missing")
        if moved:
            parts.append(f"{events_text(moved)} {_verb(moved, 'was', 'were')} moved out of order")
        if links:
            parts.append(
                f"the link from {events_text(links)} to the event before is broken (an event "
                f"was changed and re-hashed)"
            )
        if self.rows > len(self.findings):
            parts.append(f"{self.rows} problems in the events in all")
        if self.guards:
            parts.append(
                f"its append-only guards were removed or changed ({', '.join(self.guards)})"
            )
        parts += self.notes[:1]
        if self.anchor and self.anchor.startswith("head anchor"):
            parts.append("its " + self.anchor.replace(" unreadable", " is unreadable", 1))
        elif self.anchor:
            parts.append(f"it does not match its head anchor: {self.anchor}")
        return "; ".join(parts) or "it failed its check"

    def commands(self) -> list[str]:
        """The commands that show the details and put the damage on record."""
        fix = "repair" if self.repairable else "reanchor"
        return [f"musicapp ledger verify{self.cli_args}", f"musicapp ledger {fix}{self.cli_args}"]

    def remedy(self) -> str:
        verify, fix = self.commands()
        purpose = (
            "put the damage on record and go on (the damaged events stay as they are)"
            if self.repairable
            else "accept the ledger as it now ends (the decision is recorded in the ledger)"
        )
        return (
            f"See the details with `{verify}`, then restore the ledger from a backup or run "
            f"`{fix}` to {purpose}."
        )

    def message(self) -> str:
        """One line for a refused write: what is wrong, that nothing was added, what to run."""
        return f"ledger {self.path} is damaged: {self.what()}. Nothing was added to it. {self.remedy()}"


class LedgerDamaged(LedgerError):
    """The ledger is damaged, so nothing may be added to it until the damage is on record."""

    def __init__(self, damage: Damage) -> None:
        super().__init__(damage.message())
        self.damage = damage
