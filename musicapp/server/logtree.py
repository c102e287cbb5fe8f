"""The Merkle tree's storage: perfect subtree hashes in ``merkle_nodes`` and batch proofs.

Perfect subtree hashes are stored as leaves are appended (they never change), so a proof reads
O(log n) rows however big the log grows.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Connection, Engine, select

from musicapp.server import db
from musicapp.transparency import merkle


class CommittedNodes:
    """Perfect subtree hashes known committed, shared by one process's requests.

    A perfect node never changes once committed, so any request may reuse one another read or
    wrote. Computing a tree head or a proof reads O(log n) of them, mostly the same large ones
    each time; without this every append paid those reads again. Only committed nodes enter:
    those read from the database outside the transaction writing them, and a batch's own nodes
    once its transaction has committed (``publish``). Bounded: emptied when it outgrows
    ``limit`` (rare, and it refills from the database).
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, key: tuple[int, int]) -> bytes | None:
        return self._nodes.get(key)

    def add(self, items: list[tuple[int, int, bytes]]) -> None:
        with self._lock:
            if len(self._nodes) + len(items) > self.limit:
                self._nodes.clear()
            for level, idx, digest in items:
                self._nodes[(level, idx)] = digest


_SHARED: weakref.WeakKeyDictionary[Engine, CommittedNodes] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def committed_nodes(engine: Engine) -> CommittedNodes:
    """The process's cache of committed nodes for this database."""
    with _SHARED_LOCK:
        found = _SHARED.get(engine)
        if found is None:
            found = _SHARED[engine] = CommittedNodes()
        return found


class DbNodes:
    """A merkle.NodeSource over ``merkle_nodes`` with a per-request cache and pending rows,
    reading through the process's ``CommittedNodes``."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._shared = committed_nodes(conn.engine)
        self.cache: dict[tuple[int, int], bytes] = {}
        self.pending: list[tuple[int, int, bytes]] = []
        self.written: list[tuple[int, int, bytes]] = []  # flushed; published after the commit

    def perfect(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self.cache.get(key) or self._shared.get(key)
        if found is None:
            row = self._conn.execute(
                select(db.merkle_nodes.c.hash).where(
                    db.merkle_nodes.c.level == level, db.merkle_nodes.c.idx == index
                )
            ).first()
            if row is None:
                raise LookupError(f"merkle node level {level} index {index} is missing")
            found = bytes(row.hash)
            # Not one of this transaction's own (those are in self.cache): committed already.
            self._shared.add([(level, index, found)])
        self.cache[key] = found
        return found

    def append(self, index: int, leaf: bytes) -> None:
        for level, idx, digest in merkle.nodes_completed_by(index, leaf, self.perfect):
            self.cache[(level, idx)] = digest
            self.pending.append((level, idx, digest))

    def flush(self) -> None:
        db.insert_rows(self._conn, "merkle_nodes", ("level", "idx", "hash"), self.pending)
        self.written += self.pending
        self.pending = []

    def publish(self) -> None:
        """Share the nodes this request wrote; call only once its transaction has committed."""
        self._shared.add(self.written)
        self.written = []


class Proofs:
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
