"""Receipts inside the file: what a third party needs to check a take's history offline.

After a sync the rights server has receipted the take's ``verification`` and ``generation``
events: each is in its append-only log, under a tree head it signed. An export made then
carries, in its ``MUSICAPP_RECEIPTS`` tag (covered by the C2PA manifest's data hash, like
every tag):

- each event in full (seq, id, kind, time, payload, previous hash, hash), so its hash can be
  worked out again;
- the device's Ed25519 signature over the event's hash, the one the server checked at upload;
- the server's receipt: the signed tree head and the inclusion proof from the event's hash to
  its root;
- the device's id and ledger key, and its certificate chain (the server's CA issued it and names
  that key in it: ``transparency/certs.py``).

``offline.py`` checks all of it with nothing but the file and the server's CA certificate. The
export's own event cannot be receipted inside the file it describes (it is logged as the file
is made); the offline report says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from musicapp.ledger import Event, canonical_json

TAG = "MUSICAPP_RECEIPTS"
VERSION = 1
_RECEIPT_FIELDS = ("tree_size", "root", "timestamp", "signature", "leaf_index", "inclusion")


@dataclass(frozen=True)
class Proven:
    """One embedded event: the event, the device's signature over its hash, the receipt."""

    event: Event
    signature: str
    receipt: dict[str, Any]


@dataclass(frozen=True)
class Proofs:
    """What the ``MUSICAPP_RECEIPTS`` tag holds."""

    device_id: str
    ledger_key: str
    chain_pem: str  # the signing certificate's chain, as the device holds it ("" if none)
    events: tuple[Proven, ...]

    def to_json(self) -> str:
        return canonical_json(
            {
                "version": VERSION,
                "device_id": self.device_id,
                "ledger_key": self.ledger_key,
                "certificate_chain": self.chain_pem,
                "events": [
                    {
                        "event": p.event.to_dict(),
                        "signature": p.signature,
                        "receipt": p.receipt,
                    }
                    for p in self.events
                ],
            }
        )

    def event(self, event_id: object) -> Proven | None:
        return next((p for p in self.events if p.event.id == event_id), None)


def build(
    events: Iterable[Event],
    receipt_of: Callable[[int], Mapping[str, Any] | None],
    sign: Callable[[str], str],
    device_id: str,
    ledger_key: str,
    chain_pem: str,
) -> Proofs | None:
    """The proofs of the ``events`` the server has receipted (``receipt_of(seq)``, from the
    sync state; ``sign(hex hash)`` the device key's signature); None when it has receipted
    none of them (the take was not synced yet)."""
    out = []
    for event in events:
        receipt = receipt_of(event.seq)
        if receipt is None or receipt.get("event_hash") != event.hash:
            continue
        kept = {k: receipt[k] for k in _RECEIPT_FIELDS if k in receipt}
        out.append(Proven(event, sign(event.hash), kept))
    if not out:
        return None
    return Proofs(device_id, ledger_key, chain_pem, tuple(out))


class ProofsError(ValueError):
    """A ``MUSICAPP_RECEIPTS`` tag that cannot be read; the message says what is wrong."""


def _event(raw: Any, where: str) -> Event:
    if not isinstance(raw, Mapping):
        raise ProofsError(f"{where}: the event is not a record")
    try:
        return Event(
            seq=int(raw["seq"]),
            id=str(raw["id"]),
            kind=str(raw["kind"]),
            ts=str(raw["ts"]),
            payload=dict(raw["payload"]),
            prev_hash=str(raw["prev_hash"]),
            hash=str(raw["hash"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofsError(f"{where}: the event lacks or garbles {exc}") from None


def parse(text: Any) -> Proofs:
    """The tag's text as ``Proofs``; ProofsError naming the field that is wrong."""
    if not isinstance(text, str):
        raise ProofsError(f"{TAG} appears more than once")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProofsError(f"{TAG} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ProofsError(f"{TAG} is not a version {VERSION} record")
    for name in ("device_id", "ledger_key", "certificate_chain"):
        if not isinstance(data.get(name), str):
            raise ProofsError(f"{TAG}: {name} is missing or not text")
    items = data.get("events")
    if not isinstance(items, list) or not items:
        raise ProofsError(f"{TAG}: events is missing or empty")
    proven = []
    for i, item in enumerate(items):
        where = f"{TAG}: events[{i}]"
        if not isinstance(item, Mapping):
            raise ProofsError(f"{where} is not a record")
        receipt = item.get("receipt")
        if not isinstance(receipt, Mapping) or not isinstance(item.get("signature"), str):
            raise ProofsError(f"{where}: its receipt or signature is missing")
        proven.append(Proven(_event(item.get("event"), where), item["signature"], dict(receipt)))
    return Proofs(data["device_id"], data["ledger_key"], data["certificate_chain"], tuple(proven))
