"""RFC 9162 proof checks against a brute-force tree written straight from the RFC's definitions."""

import hashlib

import pytest

from musicapp.sync.fake_server import MerkleTree
from musicapp.sync.proofs import leaf_hash, node_hash, verify_consistency, verify_inclusion


def _mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return leaf_hash(d[0])
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return node_hash(_mth(d[:k]), _mth(d[k:]))


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_mth(d)]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


LEAVES = [hashlib.sha256(str(i).encode()).digest() for i in range(33)]


def test_every_inclusion_proof_verifies_and_a_wrong_leaf_or_root_does_not():
    for n in range(1, len(LEAVES) + 1):
        d = LEAVES[:n]
        root = _mth(d)
        for m in range(n):
            proof = _path(m, d)
            assert verify_inclusion(m, n, leaf_hash(d[m]), proof, root)
            assert not verify_inclusion(m, n, leaf_hash(b"other"), proof, root)
            assert not verify_inclusion(m, n, leaf_hash(d[m]), proof, _mth(d[:-1] + [b"x"]))
            if proof:
                assert not verify_inclusion(m, n, leaf_hash(d[m]), proof[:-1], root)
                assert not verify_inclusion(m, n, leaf_hash(d[m]), [*proof, root], root)
        assert not verify_inclusion(n, n, leaf_hash(d[0]), [], root)


def test_every_consistency_proof_verifies_and_a_forked_history_does_not():
    for n in range(1, 24):
        for m in range(1, n + 1):
            d = LEAVES[:n]
            proof = _subproof(m, d, True) if m < n else []
            assert verify_consistency(m, n, _mth(d[:m]), _mth(d), proof), (m, n)
            forked = [b"forged", *d[1:m]]
            assert not verify_consistency(m, n, _mth(forked), _mth(d), proof)
            if proof:
                assert not verify_consistency(m, n, _mth(d[:m]), _mth(d), proof[:-1])
    assert not verify_consistency(5, 3, _mth(LEAVES[:5]), _mth(LEAVES[:3]), [])


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 100])
def test_the_fake_servers_tree_matches_the_brute_force_tree(n):
    d = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    tree = MerkleTree()
    for leaf in d:
        tree.append(leaf)
    assert tree.root() == _mth(d)
    for m in range(n):
        assert tree.inclusion(m, n) == _path(m, d)
    for m in range(1, n):
        assert tree.consistency(m, n) == _subproof(m, d, True)
