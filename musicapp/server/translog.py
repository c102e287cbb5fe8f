"""The ledger intake and its Certificate-Transparency-style log (RFC 9162 hashing).

Each device has its own hash-chained stream (the local ledger's events, signed by the device);
all streams feed one Merkle tree whose leaves are the 32-byte event hashes (``logtree.py``
stores its subtree hashes). Every batch that adds leaves gets one signed tree head (STH), stored
by size, so a receipt can be rebuilt identically when the same events are sent again.

An event is logged only when its signature and hash check, its payload is one statements can
read (``payloads.py``), and neither its hash nor its event id is logged already, by any device
(a cloned key or a copied data folder replaying events, or two events sharing an id). Its
statement lines (``lines.py``) are written in the same transaction.

Appends are serialised across threads by the server's write lock and across processes (several
servers over one PostgreSQL database) by reading ``log_state`` FOR UPDATE first: whoever holds
that row lock appends next and commits the leaves, nodes and signed head it computed from the
size it read; the next one then reads the committed size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam, insert, select, update

from musicapp.ledger.canonical import (
    GENESIS_HASH,
    CanonicalError,
    canonical_json,
    event_hash_from_json,
)
from musicapp.server import db, lines
from musicapp.server.auth import Account
from musicapp.server.errors import ApiError
from musicapp.server.logtree import DbNodes, Proofs
from musicapp.server.payloads import PayloadError, bad_string, check_payload
from musicapp.transparency import merkle, signing
from musicapp.transparency.treehead import TreeHead


def _sign_head(
    conn: Connection, key: signing.Ed25519PrivateKey, nodes: DbNodes, size: int
) -> TreeHead:
    root_hex = merkle.root(nodes, size).hex()
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    head = TreeHead(
        size, root_hex, ts, signing.sign(key, TreeHead.signed_bytes_of(size, root_hex, ts))
    )
    conn.execute(insert(db.tree_heads).values(**head.to_dict()))
    return head


def _head(conn: Connection, size: int) -> TreeHead | None:
    row = conn.execute(select(db.tree_heads).where(db.tree_heads.c.tree_size == size)).first()
    return TreeHead(row.tree_size, row.root, row.timestamp, row.signature) if row else None


def log_size(conn: Connection, for_update: bool = False) -> int:
    query = select(db.log_state.c.size).where(db.log_state.c.id == 1)
    if for_update:
        query = query.with_for_update()
    return int(conn.execute(query).scalar_one())


def current_head(conn: Connection) -> TreeHead | None:
    """The signed head of the current log size, if one was signed (always, once it has leaves)."""
    return _head(conn, log_size(conn))


def latest_head(conn: Connection, key: signing.Ed25519PrivateKey) -> TreeHead:
    """The signed head of the current log; signed (and stored) now if none exists for it yet."""
    size = log_size(conn, for_update=True)  # another process may be signing the same size
    head = _head(conn, size)
    if head is None:
        head = _sign_head(conn, key, DbNodes(conn), size)
    return head


def inclusion(conn: Connection, leaf_index: int, tree_size: int) -> list[str]:
    _check_size(conn, tree_size, "tree_size")
    if not 0 <= leaf_index < tree_size:
        raise ApiError(400, f"leaf_index: {leaf_index} is not inside a tree of size {tree_size}")
    return [h.hex() for h in merkle.inclusion_proof(leaf_index, tree_size, DbNodes(conn))]


def consistency(conn: Connection, first: int, second: int) -> list[str]:
    _check_size(conn, second, "second")
    if first < 1:
        raise ApiError(
            400, f"first: {first} must be at least 1 (RFC 9162 has no proof from the empty tree)"
        )
    if first > second:
        raise ApiError(400, f"first: {first} is larger than second ({second})")
    return [h.hex() for h in merkle.consistency_proof(first, second, DbNodes(conn))]


def _check_size(conn: Connection, size: int, field: str) -> None:
    current = log_size(conn)
    if size < 1 or size > current:
        raise ApiError(404, f"{field}: the log has no tree of size {size} (it holds {current})")


EVENT_COLUMNS = (
    "device_id",
    "seq",
    "event_id",
    "kind",
    "payload",
    "created_at",
    "created_utc",
    "prev_hash",
    "hash",
    "signature",
    "leaf_index",
    "received_at",
    "receipt_size",
    "registry_seq",
)


@dataclass
class _Stored:
    seq: int
    event_id: str
    hash: str
    leaf_index: int
    receipt_size: int


def _receipt(
    conn: Connection, proofs: Proofs, device_id: str, ev: _Stored, heads: dict[int, TreeHead]
) -> dict[str, Any]:
    head = heads.get(ev.receipt_size) or _head(conn, ev.receipt_size)
    assert head is not None, f"no signed head for size {ev.receipt_size}"
    heads[ev.receipt_size] = head
    proof = proofs.path(ev.leaf_index, ev.receipt_size)
    return {
        "device_id": device_id,
        "seq": ev.seq,
        "event_hash": ev.hash,
        "leaf_index": ev.leaf_index,
        "tree_size": ev.receipt_size,
        "root": head.root,
        "inclusion": proof,
        "timestamp": head.timestamp,
        "signature": head.signature,
    }


def _payload_json(payload: Any) -> str:
    """``canonical_json(payload)``, skipping its type walk for what JSON parsing can produce.

    A payload parsed from a request body holds only JSON types with string keys, so the one
    thing the walk could still find is a non-finite float (NaN, Infinity), which ``allow_nan=False``
    refuses too. Anything json.dumps refuses, or a payload that is not a plain dict, goes through
    ``canonical_json`` for its exact error message. The text is identical either way.
    """
    if type(payload) is dict:
        try:
            return json.dumps(
                payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        except (TypeError, ValueError):
            pass
    return canonical_json(payload, "payload")


def prepare(events: list[dict[str, Any]]) -> None:
    """Encode each payload canonically and compute each event hash; no I/O, no lock needed.

    Sets ``payload_json`` and ``computed_hash`` (or ``payload_problem``), and
    ``content_problem`` when the payload is not one the intake logs, on each event dict, so the
    route can do it while the signature workers run; ``append_events`` does it otherwise.
    """
    for ev in events:
        try:
            ev["payload_json"] = _payload_json(ev["payload"])
            ev["computed_hash"] = event_hash_from_json(
                ev["seq"],
                ev["event_id"],
                ev["kind"],
                ev["created_at"],
                ev["payload_json"],
                ev["prev_hash"],
            )
        except CanonicalError as exc:
            ev["payload_problem"] = str(exc)
            continue
        except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form to hash
            where = bad_string(ev["payload"])
            ev["payload_problem"] = where or (
                f"{exc.object[exc.start]!r} in event_id, kind or created_at is not valid Unicode"
            )
            continue
        try:
            check_payload(ev["kind"], ev["payload"], len(ev["payload_json"]))
        except PayloadError as exc:
            ev["content_problem"] = str(exc)


def _check_event(
    ev: dict[str, Any], verifier: signing.Verifier, signature_ok: bool | None
) -> str | None:
    """Signature, then the event hash; returns the problem or None. Names the seq.

    Sets ``ev["payload_json"]`` (the canonical payload text, stored as it is): the hash is
    computed from it, the same fast path the local ledger uses, so it is encoded once.
    """
    seq = ev["seq"]
    if signature_ok is None:
        signature_ok = verifier(bytes.fromhex(ev["hash"]), ev["signature"])
    if not signature_ok:
        return f"event seq {seq}: the signature does not verify with this device's key"
    if "computed_hash" not in ev and "payload_problem" not in ev:
        prepare([ev])
    if "payload_problem" in ev:
        return f"event seq {seq}: {ev['payload_problem']}"
    computed = ev["computed_hash"]
    if computed != ev["hash"]:
        return f"event seq {seq}: hash does not match the event's contents (computed {computed})"
    return None


def append_events(
    conn: Connection,
    key: signing.Ed25519PrivateKey,
    device: Account,
    events: list[dict[str, Any]],
    signatures_ok: list[bool] | None = None,
    after_commit: list[Callable[[], None]] | None = None,
) -> tuple[list[dict[str, Any]], ApiError | None, dict[str, Any] | None]:
    """Check and append a batch; returns (receipts for the accepted prefix, the refusal or None,
    a consistency proof from the device's previous receipted head to the newest, or None).

    The accepted prefix is written even when a later event is refused, so the caller commits
    and then reports the refusal with the receipts so far. ``signatures_ok`` (one bool per
    event, from ``sigcheck``) saves checking signatures here; None checks them inline. The
    caller runs ``after_commit``'s functions once the transaction has committed (sharing the
    Merkle nodes it wrote with the process's other requests).
    """
    assert device.public_key is not None
    verifier = signing.Verifier(device.public_key)
    size = log_size(conn, for_update=True)  # first: the lock that orders appends
    registry_seq = db.snapshot_registry(conn)
    nodes = DbNodes(conn)
    if after_commit is not None:
        after_commit.append(nodes.publish)
    t = db.ledger_events.c
    head_row = conn.execute(
        select(t.seq, t.hash).where(t.device_id == device.id).order_by(t.seq.desc()).limit(1)
    ).first()
    last_seq, last_hash = (head_row.seq, head_row.hash) if head_row else (0, GENESIS_HASH)
    seqs = [e["seq"] for e in events]
    existing: dict[int, _Stored] = {}
    if seqs:
        rows = conn.execute(
            select(t.seq, t.event_id, t.hash, t.leaf_index, t.receipt_size).where(
                t.device_id == device.id, t.seq >= min(seqs), t.seq <= max(seqs)
            )
        )
        existing = {
            r.seq: _Stored(r.seq, r.event_id, r.hash, r.leaf_index, r.receipt_size) for r in rows
        }
    logged_ids, logged_hashes = _logged_elsewhere(conn, device.id, events)

    accepted: list[_Stored] = []
    new_rows: list[tuple[Any, ...]] = []
    new_events: list[lines.Event] = []
    error: ApiError | None = None
    received = datetime.now(UTC).isoformat(timespec="microseconds")
    for i, ev in enumerate(events):
        seq = ev["seq"]
        problem = _check_event(ev, verifier, signatures_ok[i] if signatures_ok else None)
        if problem is not None:
            error = ApiError(422, problem)
            break
        old = existing.get(seq)
        if old is not None:
            if old.hash != ev["hash"]:
                error = ApiError(
                    409, f"event seq {seq}: a different event is already stored at this seq"
                )
                break
            accepted.append(old)
            continue
        if last_seq == 0 and seq > 1 and _continues_logged(conn, seq, ev["prev_hash"]):
            # A new stream may continue another's (the device's own, started over): its first
            # event follows one already logged, which is not logged a second time.
            last_seq, last_hash = seq - 1, ev["prev_hash"]
        if seq != last_seq + 1:
            error = ApiError(
                409, f"event seq {seq}: out of order; the next expected seq is {last_seq + 1}"
            )
            break
        if ev["prev_hash"] != last_hash:
            error = ApiError(
                422,
                f"event seq {seq}: prev_hash does not match the hash of seq {last_seq} "
                f"({last_hash})",
            )
            break
        refusal = _content_problem(ev, logged_ids, logged_hashes)
        if refusal is not None:
            error = ApiError(refusal[0], f"event seq {seq}: {refusal[1]}")
            break
        created_utc = _utc(ev["created_at"])
        if created_utc is None:
            error = ApiError(
                422,
                f"event seq {seq}: created_at: {ev['created_at']!r} is not an ISO-8601 time "
                f"with a zone in the years 1 to 9999 (UTC)",
            )
            break
        stored = _Stored(seq, ev["event_id"], ev["hash"], size, -1)
        nodes.append(size, merkle.leaf_hash(bytes.fromhex(ev["hash"])))
        size += 1
        new_rows.append(
            (
                device.id,
                seq,
                ev["event_id"],
                ev["kind"],
                ev["payload_json"],
                ev["created_at"],
                created_utc,
                ev["prev_hash"],
                ev["hash"],
                ev["signature"],
                stored.leaf_index,
                received,
            )
        )
        new_events.append(
            lines.Event(
                device.id, seq, ev["event_id"], ev["kind"], ev["payload"], created_utc, registry_seq
            )
        )
        logged_ids.add(ev["event_id"])
        logged_hashes.add(ev["hash"])
        existing[seq] = stored
        accepted.append(stored)
        last_seq, last_hash = seq, ev["hash"]

    heads: dict[int, TreeHead] = {}
    proofs = Proofs(nodes)
    if new_rows:
        for stored in accepted:
            if stored.receipt_size == -1:
                stored.receipt_size = size
        nodes.flush()
        db.insert_rows(
            conn,
            "ledger_events",
            EVENT_COLUMNS,
            [(*row, size, registry_seq) for row in new_rows],
        )
        # The lines read the verifications they cite, this batch's included, from the table.
        db.insert_rows(
            conn,
            "statement_lines",
            lines.LINE_COLUMNS,
            lines.compute(conn, new_events),  # Line is a tuple of the columns
        )
        conn.execute(update(db.log_state).where(db.log_state.c.id == 1).values(size=size))
        heads[size] = _sign_head(conn, key, nodes, size)
        proofs.prepare(size - len(new_rows), size)
    receipts = [_receipt(conn, proofs, device.id, s, heads) for s in accepted]
    return receipts, error, _consistency_since_previous(conn, nodes, device.id, seqs, accepted)


def _continues_logged(conn: Connection, seq: int, prev_hash: str) -> bool:
    """Whether an event with ``prev_hash`` at ``seq - 1`` is logged (under any device)."""
    t = db.ledger_events.c
    found = conn.execute(
        select(t.seq).where(t.hash == prev_hash, t.seq == seq - 1).limit(1)
    ).first()
    return found is not None


def _utc(created_at: str) -> str | None:
    """The time in UTC as stored (fixed width, so text order is time order), or None."""
    try:
        created = datetime.fromisoformat(created_at)
        if created.tzinfo is None:
            return None
        return created.astimezone(UTC).isoformat(timespec="microseconds")
    except (ValueError, OverflowError):  # year 9999 at -05:00 is past year 9999 in UTC
        return None


def _lookups() -> tuple[Any, Any]:
    t = db.ledger_events.c
    columns = (t.device_id, t.seq, t.event_id, t.hash)
    values: BindParameter[Any] = bindparam("values", expanding=True)
    return select(*columns).where(t.event_id.in_(values)), select(*columns).where(
        t.hash.in_(values)
    )


_BY_ID, _BY_HASH = _lookups()  # built once: SQLAlchemy compiles each once


def _logged_elsewhere(
    conn: Connection, device_id: str, events: list[dict[str, Any]]
) -> tuple[set[str], set[str]]:
    """(event ids, hashes) of the batch's events already logged other than as the same event
    of this device at the same seq (an identical resend, which is answered, not refused)."""
    ids, hashes = sorted({e["event_id"] for e in events}), sorted({e["hash"] for e in events})
    by_seq = {(e["seq"], e["event_id"], e["hash"]) for e in events}
    found_ids: set[str] = set()
    found_hashes: set[str] = set()
    for query, wanted in ((_BY_ID, ids), (_BY_HASH, hashes)):
        for i in range(0, len(wanted), 500):
            for r in conn.execute(query, {"values": wanted[i : i + 500]}):
                if r.device_id == device_id and (r.seq, r.event_id, r.hash) in by_seq:
                    continue
                found_ids.add(r.event_id)
                found_hashes.add(r.hash)
    return found_ids, found_hashes


def _content_problem(
    ev: dict[str, Any], logged_ids: set[str], logged_hashes: set[str]
) -> tuple[int, str] | None:
    """(status, why) a new event (signature, hash and chain checked) may not be logged, or None."""
    if ev["hash"] in logged_hashes:
        # The same signed event from another device: a cloned key or a copied data folder.
        return 409, (
            f"this exact event (hash {ev['hash'][:16]}...) is already logged under another "
            f"device; a copied data folder or device key cannot log it again"
        )
    if ev["event_id"] in logged_ids:
        return 409, f"event_id: {ev['event_id']!r} is already logged; event ids are unique"
    if "content_problem" in ev:
        return 422, ev["content_problem"]
    return None


def _consistency_since_previous(
    conn: Connection, nodes: DbNodes, device_id: str, seqs: list[int], accepted: list[_Stored]
) -> dict[str, Any] | None:
    """A consistency proof from the tree head that receipted the device's event before this
    batch to the newest head of this batch's receipts, or None.

    That older head is the one a client checking its receipts in order holds by now, so it can
    check the new head without a ``/v1/log/consistency`` round trip per batch.
    """
    if not accepted or min(seqs) < 2:
        return None
    t = db.ledger_events.c
    first = conn.execute(
        select(t.receipt_size).where(t.device_id == device_id, t.seq == min(seqs) - 1)
    ).scalar()
    second = max(s.receipt_size for s in accepted)
    if first is None or not 1 <= first < second:
        return None
    proof = merkle.consistency_proof(first, second, nodes)
    return {"first": first, "second": second, "proof": [h.hex() for h in proof]}
