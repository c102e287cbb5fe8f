"""The signature pool answers exactly like the inline check, bad entries included."""

from __future__ import annotations

from musicapp.server.sigcheck import SignatureChecker, check_all
from musicapp.transparency import signing


def test_pool_and_inline_agree() -> None:
    key = signing.generate_key()
    digests = [bytes([i]) * 32 for i in range(10)]
    items = [(d.hex(), signing.sign(key, d)) for d in digests]
    items[6] = (items[6][0], signing.sign(signing.generate_key(), digests[6]))
    items[8] = ("zz", items[8][1])  # not hex
    expected = [i not in (6, 8) for i in range(10)]
    public = signing.public_key_b64(key)
    assert check_all(public, items) == expected
    checker = SignatureChecker(workers=2, threshold=4)
    try:
        assert checker.check(public, items) == expected
        assert checker.check(public, items[:3]) == expected[:3]  # below threshold: inline
    finally:
        checker.close()
