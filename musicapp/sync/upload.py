"""Pending ledger events as upload bodies: batches, each event signed and encoded once.

The payload goes out as the canonical text the ledger stored (the text its hash covers): no
parse and no second encoding per event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring_ascii as _json_str
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from musicapp.ledger import Ledger, StoredEvent

MAX_BATCH = 1000  # the most the server takes in one request (docs/server-api.md)
MAX_BATCH_BYTES = 3 * 1024 * 1024  # under the server's 4 MiB body limit, with room for JSON

Encoded = list[tuple[list["StoredEvent"], bytes]]


def batches(ledger: Ledger, after_seq: int, size: int) -> Iterator[list[StoredEvent]]:
    """The ledger's events after ``after_seq``, in order, ``size`` at a time."""
    batch: list[StoredEvent] = []
    for event in ledger.stored_events(since_seq=after_seq):
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def encode(events: list[StoredEvent], sign: Callable[[str], str]) -> Encoded:
    """Request bodies for ``events`` (``sign``: event hash -> base64 signature); split by size."""
    out: Encoded = []
    batch: list[StoredEvent] = []
    parts: list[bytes] = []
    size = 0
    for event in events:
        part = wire(event, sign(event.hash)).encode("utf-8")
        if batch and size + len(part) + 1 > MAX_BATCH_BYTES:
            out.append((batch, _body(parts)))
            batch, parts, size = [], [], 0
        batch.append(event)
        parts.append(part)
        size += len(part) + 1
    if batch:
        out.append((batch, _body(parts)))
    return out


def wire(e: StoredEvent, signature: str) -> str:
    """The event as the contract's JSON object."""
    return (
        f'{{"seq":{int(e.seq)},"event_id":{_json_str(e.id)},"kind":{_json_str(e.kind)},'
        f'"payload":{e.payload_json},"created_at":{_json_str(e.ts)},'
        f'"prev_hash":{_json_str(e.prev_hash)},"hash":{_json_str(e.hash)},'
        f'"signature":"{signature}"}}'
    )


def _body(parts: list[bytes]) -> bytes:
    """``{"events": [...]}`` from the events' JSON texts (UTF-8)."""
    return b'{"events":[' + b",".join(parts) + b"]}"


def unreadable(batch: list[StoredEvent]) -> str:
    """Why a refused body might not parse: the first stored payload that is not a JSON object.

    Payloads go out as the ledger stored them, so a ledger damaged outside musicapp shows up as
    a body the server cannot read; this names the event instead.
    """
    for event in batch:
        try:
            ok = isinstance(json.loads(event.payload_json), dict)
        except ValueError:
            ok = False
        if not ok:
            return (
                f" (the local ledger's event seq {event.seq} has an unreadable payload: "
                f"run `musicapp ledger verify`)"
            )
    return ""
