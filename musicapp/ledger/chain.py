"""Checks a stream of ledger rows against their hashes, their links and the head anchor."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from musicapp.ledger.anchor import Anchor
from musicapp.ledger.canonical import (
    GENESIS_HASH,
    CanonicalError,
    canonical_json,
    event_hash_from_json,
)
from musicapp.ledger.damage import KEYS_LIMIT, Acknowledgements, Finding, Sweep

# A wholesale rewrite would otherwise produce one line per event; past this the report says
# how many more there were.
MAX_PROBLEMS = 100
# Rows with a hash mismatch are kept (up to this many) to tell an edit from a move.
_MAX_SUSPECTS = 64

Row = tuple[Any, Any, Any, Any, Any, Any, Any]  # seq, id, kind, ts, payload json, prev_hash, hash


@dataclass(frozen=True)
class ChainReport:
    """The result of checking a ledger: ok, how many events were checked, and what is wrong.

    ``ok`` is False only for damage not yet on record; damage a ``ledger repair`` (or an anchor
    decision) put on record is listed in ``acknowledged`` instead of ``problems``.
    """

    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    findings: tuple[Finding, ...] = ()  # row damage not on record (the first KEYS_LIMIT + 1)
    unacknowledged: int = 0  # row damage not on record, in all
    sweep: tuple[int, str] = (0, "")  # every row finding, on record or not, and their keys' digest
    anchor_problem: str | None = None
    guards: tuple[str, ...] = ()  # append-only guards missing or changed
    notes: tuple[str, ...] = ()  # problems outside the rows and the anchor
    head: tuple[int, str] | None = None  # the last row checked (seq, hash)

    def summary(self) -> str:
        if self.ok:
            known = (
                f" ({len(self.acknowledged)} earlier problem(s) on record)"
                if self.acknowledged
                else ""
            )
            return f"ledger intact: {self.checked} events checked{known}"
        return f"ledger damaged: {len(self.problems)} problem(s) in {self.checked} events"


def _same_values(
    seq: int, event_id: str, kind: str, ts: str, payload: str, prev_hash: str, stored: str
) -> bool:
    """True if the payload is canonical JSON's values in other bytes (the hash is over values)."""
    try:
        recoded = canonical_json(json.loads(payload))
    except (ValueError, CanonicalError):
        return False
    return recoded != payload and (
        event_hash_from_json(seq, event_id, kind, ts, recoded, prev_hash) == stored
    )


class _Bucket:
    """Findings of one standing (new, on record, waiting for a sweep): a count and the first few."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.items: list[tuple[Finding, str]] = []  # the finding, and where it is on record
        self.count = 0

    def add(self, finding: Finding, where: str = "") -> None:
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append((finding, where))

    def take(self, other: _Bucket, where: str = "") -> None:
        for finding, _ in other.items:
            self.add(finding, where)
        self.count += other.count - len(other.items)


class ChainChecker:
    """Fed rows in seq order, one at a time, so a long ledger is never held in memory.

    ``start`` lets a check begin after an event already verified (its seq and hash);
    ``acks`` is the damage already on record (``damage.read_acknowledgements``).
    """

    def __init__(
        self,
        anchor_seq: int | None = None,
        acks: Acknowledgements | None = None,
        start: tuple[int, str] = (0, GENESIS_HASH),
    ) -> None:
        self.checked = 0
        self._notes: list[str] = []
        self._guards: tuple[str, ...] = ()
        self._guard_text = ""
        self._first_seq = start[0]
        self._last_seq, self._last_hash = start
        self._anchor_seq = anchor_seq
        self.hash_at_anchor: str | None = None
        self._acks = acks or Acknowledgements()
        self._sweeps = sorted(self._acks.sweeps, key=lambda s: s.seq)
        self._waiting = {s.seq: _Bucket(KEYS_LIMIT + 1) for s in self._sweeps}
        self._new = _Bucket(KEYS_LIMIT + 1)
        self._on_record = _Bucket(MAX_PROBLEMS)
        self._keys = hashlib.sha256()
        self._found = 0
        self._suspects: list[tuple[str, Row]] = []
        self._missing: list[int] = []

    @property
    def found(self) -> int:
        """Row findings so far, on record or not."""
        return self._found

    def note(self, problem: str) -> None:
        """Add a problem found outside the rows themselves (e.g. the rows could not be read)."""
        self._notes.append(problem)

    def guards_changed(self, names: list[str], text: str) -> None:
        """The append-only guards ``names`` are missing or changed; ``text`` says so."""
        self._guards, self._guard_text = tuple(names), text

    def _find(self, finding: Finding) -> None:
        self._found += 1
        self._keys.update(finding.key.encode() + b"\n")
        listed_at = self._acks.keys.get(finding.key)
        if listed_at is not None and listed_at > finding.seq:
            self._on_record.add(finding, f"on record since event {listed_at}")
            return
        for sweep in self._sweeps:
            if sweep.seq > finding.seq:
                self._waiting[sweep.seq].add(finding)
                return
        self._new.add(finding)

    def _reach(self, seq: int) -> None:
        """Settle the sweeps at or before ``seq``: the damage before them is as they found it,
        or it changed since and is new (unless a later sweep covers it)."""
        while self._sweeps and self._sweeps[0].seq <= seq:
            sweep: Sweep = self._sweeps.pop(0)
            bucket = self._waiting.pop(sweep.seq)
            same = (self._found, self._keys.hexdigest()) == (sweep.findings, sweep.sha256)
            if same and sweep.seq == seq:
                self._on_record.take(bucket, f"on record since event {sweep.seq}")
            elif self._sweeps:
                self._waiting[self._sweeps[0].seq].take(bucket)
            else:
                self._new.take(bucket)

    def feed(self, row: Row) -> None:
        seq, event_id, kind, ts, payload, prev_hash, stored = row
        self.checked += 1
        if isinstance(seq, int):
            self._reach(seq)
        if not isinstance(seq, int) or not all(
            isinstance(v, str) for v in (event_id, kind, ts, payload, prev_hash, stored)
        ):
            where = seq if isinstance(seq, int) else self._last_seq + 1
            digest = hashlib.sha256(repr(row).encode()).hexdigest()[:32]
            self._find(
                Finding(
                    "malformed",
                    where,
                    f"malformed:{where}:{digest}",
                    f"event {seq}: the row is malformed (a column holds the wrong type)",
                )
            )
            self._last_seq = where
            self._last_hash = stored if isinstance(stored, str) else ""
            return
        label = f"event {seq} (id {event_id}, {kind})"
        if seq != self._last_seq + 1:
            self._report_gap(seq)
        if seq == self._anchor_seq:
            self.hash_at_anchor = stored

        computed = event_hash_from_json(seq, event_id, kind, ts, payload, prev_hash)
        if computed != stored:
            hashes = (("stored_hash", stored), ("computed_hash", computed))
            if _same_values(seq, event_id, kind, ts, payload, prev_hash, stored):
                text = (
                    f"{label}: the stored payload text was rewritten outside musicapp "
                    f"(same values, so the hashed contents are unchanged)"
                )
                self._find(
                    Finding("rewritten", seq, f"text:{seq}:{stored}:{computed}", text, hashes)
                )
            else:
                key = f"hash:{seq}:{stored}:{computed}"
                text = f"{label}: contents were edited (hash mismatch)"
                self._find(Finding("edited", seq, key, text, hashes))
                if len(self._suspects) < _MAX_SUSPECTS:
                    self._suspects.append((key, row))
        if prev_hash != self._last_hash:
            if self._last_seq == 0:
                why = "the first event must point at the genesis hash"
            else:
                why = "an event before it was dropped, edited and re-hashed, or the order changed"
            self._find(
                Finding(
                    "link",
                    seq,
                    f"link:{seq}:{prev_hash}:{self._last_hash}",
                    f"{label}: previous-hash link broken — {why}",
                    (("prev_hash", prev_hash), ("expected_prev_hash", self._last_hash)),
                )
            )
        self._last_seq = seq
        self._last_hash = stored

    def _report_gap(self, seq: int) -> None:
        first, last = self._last_seq + 1, seq - 1
        key = f"gap:{self._last_seq}:{seq}"
        if last < first:
            text = f"sequence goes back from {self._last_seq} to {seq}: the order was changed"
            self._find(Finding("out_of_order", seq, key, text))
            return
        if first == last:
            missing = f"event {first} is missing"
        else:
            missing = f"events {first} to {last} are missing"
        if self._last_seq == 0:
            text = f"sequence starts at {seq}: {missing}"
        else:
            text = f"sequence jumps from {self._last_seq} to {seq}: {missing}"
        span = (("missing_from", first), ("missing_to", last))
        self._find(Finding("missing", first, key, text, span))
        if last - first < _MAX_SUSPECTS:
            self._missing.extend(range(first, last + 1))

    def _moves(self) -> dict[str, str]:
        """Keys of "edited" rows whose hash is right for another position → how to say so."""
        moved: dict[str, str] = {}
        candidates = {row[0] for _, row in self._suspects} | set(self._missing)
        for key, row in self._suspects:
            seq, event_id, kind, ts, payload, prev_hash, stored = row
            for other in sorted(candidates - {seq}):
                if event_hash_from_json(other, event_id, kind, ts, payload, prev_hash) == stored:
                    moved[key] = (
                        f"event {seq} (id {event_id}, {kind}): holds the contents of event "
                        f"{other} — the order was changed"
                    )
                    break
        return moved

    def _anchor_problem(
        self, anchor: Anchor | None, anchor_error: str | None, anchor_file: str
    ) -> str | None:
        if anchor_error is not None:
            return (
                f"head anchor unreadable ({anchor_error}): cannot tell whether the newest "
                f"events were dropped"
            )
        if anchor is None:
            if self.checked:
                return (
                    f"head anchor {anchor_file} is missing: cannot tell whether the newest "
                    f"events were dropped"
                )
            return None
        if anchor.seq == 0:
            return None  # written when the ledger was created: there is nothing it vouches for
        if anchor.seq > self._last_seq:
            dropped = anchor.seq - self._last_seq
            return (
                f"the last {dropped} event{'s were' if dropped > 1 else ' was'} dropped "
                f"(head says seq {anchor.seq}, hash {anchor.hash}; the ledger ends at seq "
                f"{self._last_seq})"
            )
        if self.hash_at_anchor is None:
            return f"event {anchor.seq}, named by the head anchor, is missing"
        if self.hash_at_anchor != anchor.hash:
            newest = "the newest event" if anchor.seq == self._last_seq else "event"
            return (
                f"{newest} {anchor.seq} is not the one the head anchor recorded (head says hash "
                f"{anchor.hash}, the ledger has {self.hash_at_anchor}): it was replaced"
            )
        return None

    def finish(
        self, anchor: Anchor | None, anchor_error: str | None, anchor_file: str
    ) -> ChainReport:
        """Close the check with the head anchor read before the rows were streamed."""
        for bucket in self._waiting.values():  # sweeps past the last row vouch for nothing
            self._new.take(bucket)
        moved = self._moves()

        def told(finding: Finding) -> Finding:
            if finding.key in moved:
                return replace(finding, kind="moved", text=moved[finding.key])
            return finding

        new = [told(f) for f, _ in self._new.items]
        anchor_problem = self._anchor_problem(anchor, anchor_error, anchor_file)
        guard = [self._guard_text] if self._guards else []
        problems = guard + self._notes + [f.text for f in new]
        problems += [anchor_problem] if anchor_problem else []
        hidden = self._new.count - len(new) + max(0, len(problems) - MAX_PROBLEMS)
        problems = problems[:MAX_PROBLEMS]
        if hidden:
            problems.append(f"… and {hidden} more problems")
        acknowledged = [f"{told(f).text} — {where}" for f, where in self._on_record.items]
        if self._on_record.count > len(acknowledged):
            acknowledged.append(f"… and {self._on_record.count - len(acknowledged)} more")
        acknowledged += self._acks.anchor_history
        return ChainReport(
            ok=not (self._guards or self._notes or self._new.count or anchor_problem),
            checked=self.checked,
            problems=problems,
            acknowledged=acknowledged,
            findings=tuple(new),
            unacknowledged=self._new.count,
            sweep=(self._found, self._keys.hexdigest()),
            anchor_problem=anchor_problem,
            guards=self._guards,
            notes=tuple(self._notes),
            head=(self._last_seq, self._last_hash) if self._last_seq else None,
        )
