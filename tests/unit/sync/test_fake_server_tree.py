"""The fake server's Merkle tree against a brute-force tree written from RFC 9162's definitions.

The proof *checks* the client uses live in ``musicapp.transparency.merkle`` and are tested in
tests/unit/transparency; this only keeps the in-process stand-in honest.
"""

import hashlib

import pytest

from musicapp.testing.fake_server import MerkleTree
from musicapp.transparency.merkle import leaf_hash, node_hash


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
