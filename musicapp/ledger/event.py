"""One ledger event as a value, and the ledger's error type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from musicapp.core import InvalidInput
from musicapp.ledger.canonical import event_hash


class LedgerError(InvalidInput):
    """A ledger that cannot be opened or an event that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class Event:
    """One entry of the chain: its position, what happened, and the hashes that link it."""

    seq: int
    id: str
    kind: str
    ts: str  # UTC, ISO 8601
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(self.ts)

    def computed_hash(self) -> str:
        """The hash this event's contents should have; equals ``hash`` unless it was edited."""
        return event_hash(self.seq, self.id, self.kind, self.ts, self.payload, self.prev_hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "kind": self.kind,
            "ts": self.ts,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


class StoredEvent(NamedTuple):
    """An event as stored: the payload is its canonical JSON text, unparsed.

    What the sync engine uploads: the text the hash covers goes on the wire as it is, without
    a parse and a second encoding per event.
    """

    seq: int
    id: str
    kind: str
    ts: str
    payload_json: str
    prev_hash: str
    hash: str
