"""Before pushing: is the local ledger still the one the server receipted? And what a 409 means.

A data folder restored from a backup, a ledger restored without its sync state, a ledger copied
from another computer, an event edited after the server receipted it: in each, the events the
server holds for this device and the local ledger have parted ways. Pushing then either fails
forever on the same conflict or, worse, sends nothing and says "pushed 0". So before anything
is pushed, the event at the last receipted seq is compared with its receipt (the stored hash,
and the hash recomputed from the event's contents), and the ledger's own damage check runs; a
409 from the server is explained the same way. Each message says what differs, that nothing
was sent or lost, and how to go on: start over, which registers a new device whose stream
continues after the last event the server logged as it is here (``logged_prefix``), so nothing
is counted twice, and keeps the old receipts and key in an archive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from musicapp.ledger.canonical import CanonicalError, canonical_json, event_hash_from_json
from musicapp.sync.errors import SyncError
from musicapp.sync.state import SyncState

if TYPE_CHECKING:
    from musicapp.ledger import Ledger, StoredEvent


def start_over_hint(ledger: Ledger) -> str:
    cmd = f"musicapp sync --start-over{ledger.cli_args}"
    return (
        f"To send this ledger's other events to the server as a new device stream (the old "
        f"receipts are kept in sync-archive/), start over: `{cmd}` or Sync settings → Start "
        f"over"
    )


def _short(digest: str | None) -> str:
    return f"{digest[:12]}…" if digest else "(none)"


def _first(events: Iterator[StoredEvent]) -> StoredEvent | None:
    """The first of ``events``; the reader behind them is closed at once."""
    try:
        return next(events, None)
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def _event_at(ledger: Ledger, seq: int) -> StoredEvent | None:
    event = _first(ledger.stored_events(since_seq=seq - 1))
    return event if event is not None and event.seq == seq else None


def check_before_push(ledger: Ledger, state: SyncState) -> None:
    """SyncError unless the ledger's event at the last receipted seq is the receipted one."""
    ledger.refuse_if_damaged()  # an edit anywhere that the ledger's own checks have seen
    seq = state.receipts.last_receipted_seq()
    if seq == 0:
        return
    receipted = state.receipts.receipted_hash(seq)
    local = _event_at(ledger, seq)
    head = ledger.head()
    if local is None:
        ends = f"ends at seq {head.seq}" if head else "is empty"
        raise SyncError(
            f"the server receipted this device's events up to seq {seq}, but the local ledger "
            f"{ends}: the ledger was restored from an older backup or replaced, without its "
            f"sync state. Nothing was sent, so events added since cannot silently go missing. "
            f"{start_over_hint(ledger)}"
        )
    if local.hash != receipted:
        raise SyncError(
            f"the local ledger's event seq {seq} is not the one the server receipted "
            f"(receipted hash {_short(receipted)}, local {_short(local.hash)}, event "
            f"{local.id}): this ledger was restored from a different backup, copied from "
            f"another computer, or rewritten. Nothing was sent. {start_over_hint(ledger)}"
        )
    if _recomputed(local) != local.hash and not _repaired_since(ledger, seq):
        raise SyncError(
            f"the local ledger's event seq {seq} ({local.id}, {local.kind}) was changed after "
            f"the server receipted it: its contents no longer match the receipted hash "
            f"{_short(receipted)}. Nothing was sent. Run `musicapp ledger verify"
            f"{ledger.cli_args}` to see the damage; {start_over_hint(ledger)}"
        )


def _repaired_since(ledger: Ledger, seq: int) -> bool:
    """A ledger_repair event after ``seq`` put the damage on record: the server keeps the
    event as it was receipted, and new events chain on by their stored hashes as before."""
    return _first(ledger.stored_events(since_seq=seq, kind="ledger_repair")) is not None


def _recomputed(event: StoredEvent) -> str | None:
    """The hash of the event's contents as the server computes it: over the payload's values
    in canonical form (None when the payload is not JSON at all)."""
    try:
        text = canonical_json(json.loads(event.payload_json))
    except (ValueError, CanonicalError):
        return None
    return event_hash_from_json(event.seq, event.id, event.kind, event.ts, text, event.prev_hash)


def explain_conflict(detail: str, first_seq: int, last_seq: int, ledger: Ledger) -> str:
    """The message for a 409 on a batch: what it means for this data folder, and the fix."""
    said = f"the server answered 409 for events seq {first_seq}-{last_seq}: {detail}"
    if "different event" in detail:
        return (
            f"{said}. The server already holds other events for this device at those seqs: "
            f"this data folder (its ledger and sync state) was restored from a backup, or "
            f"copied from another computer, after later events had been sent from it, so the "
            f"two histories differ from there on. Nothing was lost: your ledger is unchanged "
            f"and the server keeps what it has. {start_over_hint(ledger)}"
        )
    if "expected" in detail or "out of order" in detail:
        return (
            f"{said}. The server's copy of this device's stream ends before the events this "
            f"sync state says it receipted: the server lost events (restored from a backup?) "
            f"or this sync state belongs to another data folder. Nothing was lost here. "
            f"{start_over_hint(ledger)}"
        )
    return f"{said}. {start_over_hint(ledger)}"


def logged_prefix(ledger: Ledger, state: SyncState) -> tuple[int, str] | None:
    """(seq, hash) of the newest local event the server receipted as it is here, or None.

    Events chain by hash, so a receipt matching the local event at a seq covers every event
    before it too; the matching seqs are a prefix, found by bisection. Start over continues
    from there: what this server logged already is not sent again (it would be counted twice).
    """
    lo, hi, found = 1, state.receipts.last_receipted_seq(), None
    while lo <= hi:
        mid = (lo + hi) // 2
        local = _event_at(ledger, mid)
        if (
            local is not None
            and local.hash == state.receipts.receipted_hash(mid)
            and _recomputed(local) == local.hash
        ):
            found, lo = (mid, local.hash), mid + 1
        else:
            hi = mid - 1
    return found
