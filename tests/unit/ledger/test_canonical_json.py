"""The canonical encoding and event hash, pinned so the rights server can rely on them."""

from __future__ import annotations

import hashlib
import json

import pytest

from musicapp.core import Level
from musicapp.ledger.canonical import (
    GENESIS_HASH,
    CanonicalError,
    canonical_bytes,
    canonical_json,
    event_hash,
    event_hash_from_json,
)


def test_sorted_keys_no_whitespace_utf8() -> None:
    value = {"b": [1, 2.5, None, True], "a": {"é": 'ü\n"q"'}, "c": Level.AUDIO}
    assert canonical_json(value) == '{"a":{"é":"ü\\n\\"q\\""},"b":[1,2.5,null,true],"c":"audio"}'
    assert canonical_bytes(value) == canonical_json(value).encode("utf-8")
    assert canonical_json({"x": (1, 2)}) == canonical_json({"x": [1, 2]})


def test_non_json_values_are_refused_with_their_place() -> None:
    with pytest.raises(CanonicalError, match=r"record\.a\[1\]\.b: a value of type object"):
        canonical_json({"a": [0, {"b": object()}]}, "record")
    with pytest.raises(CanonicalError, match="key 2 is not a string"):
        canonical_json({2: "x"})


def test_event_hash_is_sha256_of_the_canonical_record() -> None:
    payload = {"share": 0.625, "title": "Für Elise", "refs": [{"song_id": "s1"}]}
    args = (7, "abc123", "generation", "2025-01-02T03:04:05.000006+00:00", payload, GENESIS_HASH)
    record = dict(zip(("seq", "id", "kind", "ts", "payload", "prev_hash"), args, strict=True))
    expected = hashlib.sha256(
        json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert event_hash(*args) == expected
    # A fixed vector: if this changes, every ledger and every server receipt breaks.
    assert expected == "8512ac9d099cd9630f55cea6fc0369aa6a08b582f22e7533ac2339208dfd3a87"


@pytest.mark.parametrize(
    "text",
    ["plain", 'quote " and \\ backslash', "new\nline\ttab", "nul \x00", "é ü 漢 🎵", "\u2028"],
)
def test_fast_path_matches_the_generic_hash(text: str) -> None:
    payload = {"t": text, "n": [1, 0.1, -3e-9, 10**20], "nested": {"z": None, "a": False}}
    generic = event_hash(3, text, text, text, payload, text)
    fast = event_hash_from_json(3, text, text, text, canonical_json(payload), text)
    assert fast == generic
