"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification. Pure: no I/O.

Leaves are given as *leaf hashes* (``leaf_hash(entry)``), because that is what a log stores.
Proofs are built from a :class:`NodeSource`, which only has to answer the hash of a *perfect*
(complete, aligned) subtree: level ``L`` index ``i`` covers leaves ``[i*2**L, (i+1)*2**L)``.
Such a subtree never changes once its last leaf exists, so a server can cache it in a table
and answer any proof by reading O(log n) rows, without holding the leaves in memory.
A plain ``Sequence[bytes]`` of leaf hashes works as a source too (handy for clients and tests).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH() (RFC 9162 §2.1.1)


class NodeSource(Protocol):
    """Answers the hash of a perfect subtree (level, index); level 0 is a leaf hash."""

    def perfect(self, level: int, index: int) -> bytes: ...


class ProofError(ValueError):
    """A proof that cannot be built for the asked sizes; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the domain-separated hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class ListSource:
    """A NodeSource over an in-memory list of leaf hashes, memoising perfect subtrees."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaves = leaf_hashes
        self._memo: dict[tuple[int, int], bytes] = {}

    def perfect(self, level: int, index: int) -> bytes:
        if level == 0:
            return self._leaves[index]
        key = (level, index)
        found = self._memo.get(key)
        if found is None:
            found = node_hash(
                self.perfect(level - 1, 2 * index), self.perfect(level - 1, 2 * index + 1)
            )
            self._memo[key] = found
        return found


def _source(src: NodeSource | Sequence[bytes]) -> NodeSource:
    return ListSource(src) if isinstance(src, Sequence) else src


def subtree_hash(src: NodeSource | Sequence[bytes], start: int, end: int) -> bytes:
    """MTH of leaves[start:end], where start is aligned to the largest power of two <= end-start.

    Every range the RFC's proof recursion asks for has that shape, so it decomposes into
    O(log n) perfect subtrees.
    """
    source = _source(src)
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return source.perfect(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(source, start, start + k), subtree_hash(source, start + k, end))


def root(src: NodeSource | Sequence[bytes], size: int | None = None) -> bytes:
    """The Merkle tree hash of the first ``size`` leaves (all of a sequence by default)."""
    if size is None:
        if not isinstance(src, Sequence):
            raise ProofError("root: give the tree size when the source is not a list")
        size = len(src)
    return subtree_hash(src, 0, size)


def inclusion_proof(index: int, size: int, src: NodeSource | Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ProofError(f"inclusion proof: leaf index {index} is not inside a tree of {size}")
    source = _source(src)
    path: list[bytes] = []
    start, end, m = 0, size, index
    # Walk down from the root; siblings are collected top-down, then reversed.
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            path.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(source, start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_proof(first: int, second: int, src: NodeSource | Sequence[bytes]) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1; empty when first == second."""
    if first < 1:
        raise ProofError(
            f"consistency proof: first size {first} must be at least 1 "
            "(RFC 9162 defines no proof from the empty tree)"
        )
    if first > second:
        raise ProofError(f"consistency proof: first size {first} is larger than second {second}")
    source = _source(src)
    proof: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        n = end - start
        k = _split(n)
        if m <= k:
            proof.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(source, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(subtree_hash(source, start, end))
    proof.reverse()
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` place ``leaf`` (a leaf hash) at ``index`` under the root?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size ``second`` an append-only extension of ``first``?

    first == 0 is refused (False): the RFC defines no proof from the empty tree.
    """
    if first < 1 or first > second:
        return False
    if first == second:
        return len(proof) == 0 and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def nodes_completed_by(
    index: int, leaf: bytes, lookup: Callable[[int, int], bytes]
) -> list[tuple[int, int, bytes]]:
    """The perfect nodes that appending leaf ``index`` completes: [(level, index, hash), ...].

    Starts with the leaf itself (level 0). ``lookup(level, index)`` returns an existing node
    (the left siblings, which are always complete already). A log stores these rows once and
    never changes them.
    """
    out = [(0, index, leaf)]
    level, i, current = 0, index, leaf
    while i & 1:
        current = node_hash(lookup(level, i - 1), current)
        level, i = level + 1, i >> 1
        out.append((level, i, current))
    return out
