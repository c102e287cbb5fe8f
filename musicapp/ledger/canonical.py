"""Canonical JSON and the event hash: the one byte encoding that ledger and rights server agree on.

The canonical encoding of a value is ``json.dumps`` with sorted keys, no whitespace,
``ensure_ascii=False`` and ``allow_nan=False``, encoded as UTF-8. Only JSON values are accepted:
``dict`` with ``str`` keys, ``list``/``tuple`` (both encode as arrays), ``str``, ``int``,
finite ``float``, ``bool`` and ``None`` (subclasses such as ``StrEnum`` encode as their base type).
Anything else raises :class:`CanonicalError` naming where in the value it sits, because a value
that encodes "somehow" (a non-string key silently turned into a string, a NaN) would give two
parties two different hashes for what they think is the same record.

This module imports nothing from musicapp so the rights server can reuse it as it is.
"""

from __future__ import annotations

import hashlib
import json
import math
from json.encoder import encode_basestring
from typing import Any

GENESIS_HASH = "0" * 64

_SCALARS = (str, int, bool, type(None))


class CanonicalError(ValueError):
    """A value that has no canonical JSON encoding; the message names where it sits."""


def _is_plain(value: Any) -> bool:
    """True when ``value`` is plain JSON all through; the fast walk behind ``find_problem``.

    It builds no path names (the slow part of describing a problem), so the common case, a
    payload that is fine, costs a few microseconds.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        else:
            return False  # subclasses (StrEnum and the like) and anything else: look closer
    return True


def find_problem(value: Any, where: str = "value") -> str | None:
    """Describe the first part of ``value`` that is not plain JSON, or None if it all is."""
    if _is_plain(value):
        return None
    # An explicit stack rather than recursion: deep but legal payloads must not hit the
    # recursion limit here when json itself would handle them.
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{path}: {item!r} is not a JSON number"
            continue
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    return f"{path}: key {key!r} is not a string"
                stack.append((sub, f"{path}.{key}"))
            continue
        if isinstance(item, list | tuple):
            stack.extend((sub, f"{path}[{i}]") for i, sub in enumerate(item))
            continue
        kind = type(item)
        name = (
            kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        )
        return f"{path}: a value of type {name} is not JSON (convert it to a string or number)"
    return None


def canonical_json(value: Any, where: str = "value") -> str:
    """The canonical JSON text of ``value``; raise CanonicalError if it is not plain JSON."""
    problem = find_problem(value, where)
    if problem is not None:
        raise CanonicalError(problem)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_bytes(value: Any, where: str = "value") -> bytes:
    """The canonical encoding of ``value`` as UTF-8 bytes."""
    return canonical_json(value, where).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The same quoting json.dumps(..., ensure_ascii=False) applies to a string, without its
# per-call overhead (it is the C encoder json.dumps itself uses): verify() calls it 4 times a row.
_text = encode_basestring


def event_hash_from_json(
    seq: int, event_id: str, kind: str, ts: str, payload_json: str, prev_hash: str
) -> str:
    """The event hash when the payload is already canonical JSON text (the ledger's fast path).

    Builds the same bytes as ``canonical_bytes({"seq":..., "id":..., ...})`` without parsing the
    payload again: the keys are spliced in sorted order (id, kind, payload, prev_hash, seq, ts).
    """
    text = (
        f'{{"id":{_text(event_id)},"kind":{_text(kind)},"payload":{payload_json},'
        f'"prev_hash":{_text(prev_hash)},"seq":{int(seq)},"ts":{_text(ts)}}}'
    )
    return sha256_hex(text.encode("utf-8"))


def event_hash(
    seq: int, event_id: str, kind: str, ts: str, payload: dict[str, Any], prev_hash: str
) -> str:
    """sha256 (hex) of the canonical encoding of ``{seq, id, kind, ts, payload, prev_hash}``."""
    record = {
        "seq": seq,
        "id": event_id,
        "kind": kind,
        "ts": ts,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return sha256_hex(canonical_bytes(record, "event"))
