"""Receipts are not taken on trust: the three checks every receipt passes before it is stored.

1. Its tree head carries the pinned server key's signature.
2. Its inclusion proof leads from the event's hash to that signed root.
3. The newest tree head is consistent (RFC 9162 §2.1.4) with the last one this client verified:
   the log only grew, nothing in it was rewritten.
Within one batch, tree heads smaller than the batch's newest are checked by signature and
inclusion only; the consistency chain runs from the stored head to the newest. Each check has a
test of its own that fails when the check is skipped (tests/security/test_sync_client.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from musicapp.ledger import StoredEvent
from musicapp.sync.errors import SyncError
from musicapp.sync.state import SyncState
from musicapp.transparency import signing
from musicapp.transparency.merkle import leaf_hash, verify_consistency, verify_inclusion
from musicapp.transparency.treehead import TreeHead

# (first, second) -> the server's {"first", "second", "proof"} answer
FetchConsistency = Callable[[int, int], dict[str, Any]]


class ReceiptChecker:
    """Checks receipts against one pinned server key and the tree head kept in the state."""

    def __init__(self, state: SyncState, server_key_b64: str) -> None:
        self.state = state
        self._verify = signing.Verifier(server_key_b64)
        self._verified_heads: set[tuple[int, str, str, str]] = set()

    def accept(
        self,
        events: list[StoredEvent],
        receipts: list[dict[str, Any]],
        fetch: FetchConsistency,
        offered: dict[str, Any] | None = None,
    ) -> None:
        """Check each receipt, the consistency of the new tree head, then store them.

        ``offered`` is the consistency proof the server sent with the receipts; it is used when
        it runs from the head this client holds to the newest one, else ``fetch`` asks for one.
        """
        if not events:
            return
        device_id = self.state.get("device_id")
        newest: TreeHead | None = None
        for event, r in zip(events, receipts, strict=True):
            where = f"receipt for event seq {event.seq}"
            if (r.get("device_id"), r.get("seq"), r.get("event_hash")) != (
                device_id,
                event.seq,
                event.hash,
            ):
                raise SyncError(
                    f"{where}: names another event ({r.get('seq')}, {r.get('event_hash')})"
                )
            head = TreeHead(int(r["tree_size"]), r["root"], r["timestamp"], r["signature"])
            self.check_signed(head, where)
            proof = [bytes.fromhex(p) for p in r["inclusion"]]
            leaf = leaf_hash(bytes.fromhex(event.hash))
            if not verify_inclusion(
                leaf, int(r["leaf_index"]), head.tree_size, proof, bytes.fromhex(head.root)
            ):
                raise SyncError(f"{where}: its inclusion proof does not lead to the signed root")
            if newest is None or head.tree_size > newest.tree_size:
                newest = head
        assert newest is not None
        self.check_consistent(newest, fetch, offered)
        self.state.receipts.store_receipts(
            [(e.seq, e.id, e.hash, r) for e, r in zip(events, receipts, strict=True)]
        )
        stored = self.state.tree_head
        if stored is None or newest.tree_size > stored.tree_size:
            self.state.tree_head = newest

    def check_signed(self, head: TreeHead, where: str) -> None:
        token = (head.tree_size, head.root, head.timestamp, head.signature)
        if token in self._verified_heads:
            return
        if not isinstance(head.signature, str) or not self._verify(
            head.signed_bytes(), head.signature
        ):
            raise SyncError(f"{where}: the tree head is not signed by the server's key")
        self._verified_heads.add(token)

    def check_consistent(
        self, new: TreeHead, fetch: FetchConsistency, offered: dict[str, Any] | None = None
    ) -> None:
        old = self.state.tree_head
        if old is None:
            return  # first receipt: trust on first use, like the pinned key
        if old.tree_size == new.tree_size:
            if old.root != new.root:
                raise SyncError(
                    f"the server's log has two roots for size {new.tree_size}: refusing its receipts"
                )
            return
        small, big = sorted((old, new), key=lambda h: h.tree_size)
        if offered and (offered.get("first"), offered.get("second")) == (
            small.tree_size,
            big.tree_size,
        ):
            body = offered
        else:
            body = fetch(small.tree_size, big.tree_size)
        proof = [bytes.fromhex(p) for p in body["proof"]]
        if not verify_consistency(
            small.tree_size,
            big.tree_size,
            bytes.fromhex(small.root),
            bytes.fromhex(big.root),
            proof,
        ):
            raise SyncError(
                f"the server's log at size {big.tree_size} is not consistent with size "
                f"{small.tree_size} verified before: refusing its receipts"
            )
