"""RFC 9162 Merkle proofs against a brute-force reference, for every index/size pair up to 64."""

from __future__ import annotations

import hashlib

import pytest

from musicapp.transparency import merkle

MAX = 64
ENTRIES = [f"entry {i}".encode() for i in range(MAX)]
LEAVES = [merkle.leaf_hash(e) for e in ENTRIES]


def reference_mth(entries: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 §2.1.1."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(
        b"\x01" + reference_mth(entries[:k]) + reference_mth(entries[k:])
    ).digest()


ROOTS = [reference_mth(ENTRIES[:n]) for n in range(MAX + 1)]


def test_hashes_are_domain_separated() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_root_and_every_inclusion_proof(size: int) -> None:
    leaves = LEAVES[:size]
    assert merkle.root(leaves) == ROOTS[size]
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, leaves)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, ROOTS[size])
        # The wrong leaf, index, size or root must fail.
        other = LEAVES[(index + 1) % size] if size > 1 else merkle.leaf_hash(b"other")
        assert not merkle.verify_inclusion(other, index, size, proof, ROOTS[size])
        assert not merkle.verify_inclusion(leaves[index], size, size, proof, ROOTS[size])
        assert not merkle.verify_inclusion(leaves[index], index, size, proof, ROOTS[size - 1])
        if proof:
            bad = list(proof)
            bad[-1] = bytes(32)
            assert not merkle.verify_inclusion(leaves[index], index, size, bad, ROOTS[size])
            assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], ROOTS[size])


@pytest.mark.parametrize("second", range(1, MAX + 1))
def test_every_consistency_proof(second: int) -> None:
    leaves = LEAVES[:second]
    for first in range(1, second + 1):
        proof = merkle.consistency_proof(first, second, leaves)
        assert merkle.verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)
        if first < second:
            # A different history of the first tree is not consistent with this one.
            assert not merkle.verify_consistency(
                first, second, merkle.leaf_hash(b"forged"), ROOTS[second], proof
            )
            bad = list(proof)
            bad[0] = bytes(32)
            assert not merkle.verify_consistency(first, second, ROOTS[first], ROOTS[second], bad)
            assert not merkle.verify_consistency(
                first, second, ROOTS[first], ROOTS[second], proof + [bytes(32)]
            )


def test_consistency_edge_cases() -> None:
    assert merkle.consistency_proof(5, 5, LEAVES[:5]) == []
    assert merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[4], [])
    assert not merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
    with pytest.raises(merkle.ProofError, match="at least 1"):
        merkle.consistency_proof(0, 5, LEAVES[:5])
    assert not merkle.verify_consistency(0, 5, ROOTS[0], ROOTS[5], [])
    with pytest.raises(merkle.ProofError, match="larger than"):
        merkle.consistency_proof(6, 5, LEAVES[:6])
    with pytest.raises(merkle.ProofError, match="not inside"):
        merkle.inclusion_proof(5, 5, LEAVES[:5])


def test_stored_perfect_nodes_give_the_same_proofs() -> None:
    """The append-time node cache (what the server stores) answers like the full leaf list."""
    table: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(LEAVES):
        for level, idx, digest in merkle.nodes_completed_by(
            i, leaf, lambda lv, ix: table[(lv, ix)]
        ):
            table[(level, idx)] = digest

    class Stored:
        reads = 0

        def perfect(self, level: int, index: int) -> bytes:
            Stored.reads += 1
            return table[(level, index)]

    source = Stored()
    assert merkle.root(source, MAX) == ROOTS[MAX]
    assert merkle.root(source, 37) == ROOTS[37]
    Stored.reads = 0
    proof = merkle.inclusion_proof(21, 53, source)
    assert proof == merkle.inclusion_proof(21, 53, LEAVES[:53])
    assert Stored.reads <= 2 * 6  # O(log n) rows, not n
    assert merkle.consistency_proof(13, 61, source) == merkle.consistency_proof(13, 61, LEAVES[:61])
