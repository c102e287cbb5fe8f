"""The attribution ledger: append-only, hash-chained events in SQLite, and their verification."""

from musicapp.ledger.canonical import GENESIS_HASH, CanonicalError, canonical_json, event_hash
from musicapp.ledger.chain import ChainReport
from musicapp.ledger.damage import Damage, Finding, LedgerDamaged
from musicapp.ledger.event import Event, LedgerError, StoredEvent
from musicapp.ledger.store import Ledger

__all__ = [
    "GENESIS_HASH",
    "CanonicalError",
    "ChainReport",
    "Damage",
    "Event",
    "Finding",
    "Ledger",
    "LedgerDamaged",
    "LedgerError",
    "StoredEvent",
    "canonical_json",
    "event_hash",
]
