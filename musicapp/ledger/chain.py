"""Checks a stream of ledger rows against their hashes, their links and the head anchor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from musicapp.ledger.anchor import Anchor
from musicapp.ledger.canonical import (
    GENESIS_HASH,
    CanonicalError,
    canonical_json,
    event_hash_from_json,
)

# A wholesale rewrite would otherwise produce one line per event; past this the report says
# how many more there were.
MAX_PROBLEMS = 100
# Rows with a hash mismatch are kept (up to this many) to tell an edit from a move.
_MAX_SUSPECTS = 64

Row = tuple[Any, Any, Any, Any, Any, Any, Any]  # seq, id, kind, ts, payload json, prev_hash, hash


@dataclass(frozen=True)
class ChainReport:
    """The result of checking a ledger: ok, how many events were checked, and what is wrong."""

    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            return f"ledger intact: {self.checked} events checked"
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


@dataclass
class _Suspect:
    problem_index: int
    row: Row


class ChainChecker:
    """Fed rows in seq order, one at a time, so a long ledger is never held in memory."""

    def __init__(self, anchor_seq: int | None = None) -> None:
        self.checked = 0
        self._problems: list[str] = []
        self._omitted = 0
        self._last_seq = 0
        self._last_hash = GENESIS_HASH
        self._anchor_seq = anchor_seq
        self.hash_at_anchor: str | None = None
        self._suspects: list[_Suspect] = []
        self._missing: list[int] = []

    def _add(self, problem: str) -> int:
        if len(self._problems) >= MAX_PROBLEMS:
            self._omitted += 1
            return -1
        self._problems.append(problem)
        return len(self._problems) - 1

    def note(self, problem: str) -> None:
        """Add a problem found outside the rows themselves (e.g. a removed guard)."""
        self._add(problem)

    def feed(self, row: Row) -> None:
        seq, event_id, kind, ts, payload, prev_hash, stored = row
        self.checked += 1
        if not isinstance(seq, int) or not all(
            isinstance(v, str) for v in (event_id, kind, ts, payload, prev_hash, stored)
        ):
            self._add(f"event {seq}: the row is malformed (a column holds the wrong type)")
            self._last_seq = seq if isinstance(seq, int) else self._last_seq + 1
            self._last_hash = stored if isinstance(stored, str) else ""
            return
        label = f"event {seq} (id {event_id}, {kind})"
        if seq != self._last_seq + 1:
            self._report_gap(seq)
        if seq == self._anchor_seq:
            self.hash_at_anchor = stored

        if event_hash_from_json(seq, event_id, kind, ts, payload, prev_hash) != stored:
            if _same_values(seq, event_id, kind, ts, payload, prev_hash, stored):
                self._add(
                    f"{label}: the stored payload text was rewritten outside musicapp "
                    f"(same values, so the hashed contents are unchanged)"
                )
            else:
                index = self._add(f"{label}: contents were edited (hash mismatch)")
                if index >= 0 and len(self._suspects) < _MAX_SUSPECTS:
                    self._suspects.append(_Suspect(index, row))
        if prev_hash != self._last_hash:
            if self._last_seq == 0:
                self._add(
                    f"{label}: previous-hash link broken — the first event must point at the genesis hash"
                )
            else:
                self._add(
                    f"{label}: previous-hash link broken — an event before it was dropped, "
                    f"edited and re-hashed, or the order changed"
                )
        self._last_seq = seq
        self._last_hash = stored

    def _report_gap(self, seq: int) -> None:
        first, last = self._last_seq + 1, seq - 1
        if last < first:
            self._add(f"sequence goes back from {self._last_seq} to {seq}: the order was changed")
            return
        if first == last:
            missing = f"event {first} is missing"
        else:
            missing = f"events {first} to {last} are missing"
        if self._last_seq == 0:
            self._add(f"sequence starts at {seq}: {missing}")
        else:
            self._add(f"sequence jumps from {self._last_seq} to {seq}: {missing}")
        if last - first < _MAX_SUSPECTS:
            self._missing.extend(range(first, last + 1))

    def _explain_moves(self) -> None:
        """Turn "edited" into "moved" for rows whose hash is right for another position."""
        candidates = {s.row[0] for s in self._suspects} | set(self._missing)
        for suspect in self._suspects:
            seq, event_id, kind, ts, payload, prev_hash, stored = suspect.row
            for other in sorted(candidates - {seq}):
                if event_hash_from_json(other, event_id, kind, ts, payload, prev_hash) == stored:
                    self._problems[suspect.problem_index] = (
                        f"event {seq} (id {event_id}, {kind}): holds the contents of event "
                        f"{other} — the order was changed"
                    )
                    break

    def finish(
        self, anchor: Anchor | None, anchor_error: str | None, anchor_file: str
    ) -> ChainReport:
        """Close the check with the head anchor read before the rows were streamed."""
        self._explain_moves()
        if anchor_error is not None:
            self._add(
                f"head anchor unreadable ({anchor_error}): cannot tell whether the newest "
                f"events were dropped"
            )
        elif anchor is None:
            if self.checked:
                self._add(
                    f"head anchor {anchor_file} is missing: cannot tell whether the newest "
                    f"events were dropped"
                )
        elif anchor.seq == 0:
            pass  # written when the ledger was created: there is nothing it could vouch for
        elif anchor.seq > self._last_seq:
            dropped = anchor.seq - self._last_seq
            self._add(
                f"the last {dropped} event{'s were' if dropped > 1 else ' was'} dropped "
                f"(head says seq {anchor.seq}, hash {anchor.hash}; the ledger ends at seq "
                f"{self._last_seq})"
            )
        elif self.hash_at_anchor is None:
            self._add(f"event {anchor.seq}, named by the head anchor, is missing")
        elif self.hash_at_anchor != anchor.hash:
            newest = "the newest event" if anchor.seq == self._last_seq else "event"
            self._add(
                f"{newest} {anchor.seq} is not the one the head anchor recorded (head says hash "
                f"{anchor.hash}, the ledger has {self.hash_at_anchor}): it was replaced"
            )
        problems = list(self._problems)
        if self._omitted:
            problems.append(f"… and {self._omitted} more problems")
        return ChainReport(ok=not problems, checked=self.checked, problems=problems)
