"""The ledger intake and its Certificate-Transparency-style log (RFC 9162 hashing).

Each device has its own hash-chained stream (the local ledger's events, signed by the device);
all streams feed one Merkle tree whose leaves are the 32-byte event hashes. Perfect subtree
hashes are stored in ``merkle_nodes`` as leaves are appended (they never change), so a proof
reads O(log n) rows however big the log grows. Every batch that adds leaves gets one signed
tree head (STH), stored by size, so a receipt can be rebuilt identically when the same events
are sent again.

Appends are serialised (the caller holds the server's write lock, and ``log_state`` is read
FOR UPDATE, which matters on PostgreSQL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from musicapp.ledger.canonical import (
    GENESIS_HASH,
    CanonicalError,
    canonical_json,
    event_hash_from_json,
)
from musicapp.server import db
from musicapp.server.auth import Account
from musicapp.server.errors import ApiError
from musicapp.transparency import merkle, signing
from musicapp.transparency.treehead import TreeHead


class DbNodes:
    """A merkle.NodeSource over ``merkle_nodes`` with a per-request cache and pending rows."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.cache: dict[tuple[int, int], bytes] = {}
        self.pending: list[tuple[int, int, bytes]] = []

    def perfect(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self.cache.get(key)
        if found is None:
            row = self._conn.execute(
                select(db.merkle_nodes.c.hash).where(
                    db.merkle_nodes.c.level == level, db.merkle_nodes.c.idx == index
                )
            ).first()
            if row is None:
                raise LookupError(f"merkle node level {level} index {index} is missing")
            found = bytes(row.hash)
            self.cache[key] = found
        return found

    def append(self, index: int, leaf: bytes) -> None:
        for level, idx, digest in merkle.nodes_completed_by(index, leaf, self.perfect):
            self.cache[(level, idx)] = digest
            self.pending.append((level, idx, digest))

    def flush(self) -> None:
        insert_rows(self._conn, "merkle_nodes", ("level", "idx", "hash"), self.pending)
        self.pending = []


def insert_rows(
    conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One executemany at the driver level.

    For a batch of a thousand events SQLAlchemy's per-row parameter processing costs more than
    the inserts themselves; both drivers take the plain tuples (bytes for blobs included).
    """
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})",
        rows,
    )


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
    size = log_size(conn)
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
)


@dataclass
class _Stored:
    seq: int
    event_id: str
    hash: str
    leaf_index: int
    receipt_size: int


class _Proofs:
    """Inclusion proofs for many leaves (RFC 9162 §2.1.3.1 PATH), sharing subtree hashes.

    The receipts of one batch are proofs in the same tree, whose siblings along the right edge
    are the same non-perfect subtrees for every leaf; ``merkle.subtree_hash`` would rebuild them
    for each proof. ``prepare`` builds the paths of a run of new leaves in one walk down the
    tree, visiting each node above them once; ``path`` answers any other leaf (events sent
    again, receipted by an older head) with ``merkle.inclusion_proof``'s walk over memoised
    subtree hashes. The tests check every proof against ``merkle.verify_inclusion``; so does
    each client.
    """

    def __init__(self, nodes: DbNodes) -> None:
        self._nodes = nodes
        self._memo: dict[tuple[int, int], str] = {}
        self._ready: dict[tuple[int, int], list[str]] = {}  # (leaf index, tree size) -> path

    def _subtree(self, start: int, end: int) -> str:
        key = (start, end)
        found = self._memo.get(key)
        if found is None:
            found = merkle.subtree_hash(self._nodes, start, end).hex()
            self._memo[key] = found
        return found

    def prepare(self, lo: int, size: int) -> None:
        """The paths of leaves lo..size-1 in the tree of ``size`` leaves, built in one walk."""

        def walk(start: int, end: int) -> list[list[str]]:
            # Paths, leaf side first, of the leaves of [start, end) that are >= lo.
            if end - start == 1:
                return [[]]
            mid = start + (1 << ((end - start - 1).bit_length() - 1))
            out: list[list[str]] = []
            if lo < mid:
                left = walk(start, mid)
                sibling = self._subtree(mid, end)
                for path in left:
                    path.append(sibling)
                out = left
            right = walk(mid, end)
            sibling = self._subtree(start, mid)
            for path in right:
                path.append(sibling)
            return out + right

        if lo < size:
            for index, path in enumerate(walk(0, size), start=lo):
                self._ready[(index, size)] = path

    def path(self, index: int, size: int) -> list[str]:
        ready = self._ready.get((index, size))
        if ready is not None:
            return ready
        if not 0 <= index < size:
            raise merkle.ProofError(f"leaf index {index} is not inside a tree of {size}")
        out: list[str] = []
        start, end, m = 0, size, index
        while end - start > 1:
            k = 1 << ((end - start - 1).bit_length() - 1)
            if m < k:
                out.append(self._subtree(start + k, end))
                end = start + k
            else:
                out.append(self._subtree(start, start + k))
                start, m = start + k, m - k
        out.reverse()
        return out


def _receipt(
    conn: Connection, proofs: _Proofs, device_id: str, ev: _Stored, heads: dict[int, TreeHead]
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

    Sets ``payload_json`` and ``computed_hash`` (or ``payload_problem``) on each event dict, so
    the route can do it while the signature workers run; ``append_events`` does it otherwise.
    """
    for ev in events:
        try:
            ev["payload_json"] = _payload_json(ev["payload"])
        except CanonicalError as exc:
            ev["payload_problem"] = str(exc)
            continue
        ev["computed_hash"] = event_hash_from_json(
            ev["seq"],
            ev["event_id"],
            ev["kind"],
            ev["created_at"],
            ev["payload_json"],
            ev["prev_hash"],
        )


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
) -> tuple[list[dict[str, Any]], ApiError | None, dict[str, Any] | None]:
    """Check and append a batch; returns (receipts for the accepted prefix, the refusal or None,
    a consistency proof from the device's previous receipted head to the newest, or None).

    The accepted prefix is written even when a later event is refused, so the caller commits
    and then reports the refusal with the receipts so far. ``signatures_ok`` (one bool per
    event, from ``sigcheck``) saves checking signatures here; None checks them inline.
    """
    assert device.public_key is not None
    verifier = signing.Verifier(device.public_key)
    size = log_size(conn, for_update=True)
    nodes = DbNodes(conn)
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

    accepted: list[_Stored] = []
    new_rows: list[tuple[Any, ...]] = []
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
        try:
            created = datetime.fromisoformat(ev["created_at"])
        except ValueError:
            error = ApiError(422, f"event seq {seq}: created_at is not an ISO-8601 time")
            break
        if created.tzinfo is None:
            error = ApiError(422, f"event seq {seq}: created_at has no time zone")
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
                created.astimezone(UTC).isoformat(timespec="microseconds"),
                ev["prev_hash"],
                ev["hash"],
                ev["signature"],
                stored.leaf_index,
                received,
            )
        )
        existing[seq] = stored
        accepted.append(stored)
        last_seq, last_hash = seq, ev["hash"]

    heads: dict[int, TreeHead] = {}
    proofs = _Proofs(nodes)
    if new_rows:
        for stored in accepted:
            if stored.receipt_size == -1:
                stored.receipt_size = size
        nodes.flush()
        insert_rows(
            conn,
            "ledger_events",
            EVENT_COLUMNS,
            [(*row, size) for row in new_rows],
        )
        conn.execute(update(db.log_state).where(db.log_state.c.id == 1).values(size=size))
        heads[size] = _sign_head(conn, key, nodes, size)
        proofs.prepare(size - len(new_rows), size)
    receipts = [_receipt(conn, proofs, device.id, s, heads) for s in accepted]
    return receipts, error, _consistency_since_previous(conn, nodes, device.id, seqs, accepted)


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
