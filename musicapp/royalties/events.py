"""Ledger payloads as the royalties see them: the one reading both the server (from its log)
and the app (from its own ledger) use, so both sides start from the same facts.

A ``generation`` payload gives the use (``request.use``), each song's share of the output
(``provenance.shares``; the user's own audio owes nobody and is left out) at the level of the
reference it came through (``request.references[share.reference].level``; "song" when the
share names no reference), the engine's training-data estimates when it logged any
(``provenance.training_attribution``: {song: weight}), and the consent versions its
verification relied on (``decisions[].consent_versions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from musicapp.core.provenance import USER_SOURCE
from musicapp.royalties.period import LEVELS, Contribution, UseEvent


def receipt_id(leaf_index: int, tree_size: int) -> str:
    """How a statement cites the server's receipt for an event: the two numbers
    ``GET /v1/log/inclusion`` takes (leaf index, tree size). The app reads them from the
    receipts it checked and stored; the server from its log."""
    return f"{leaf_index}@{tree_size}"


def consent_versions(verification: Mapping[str, Any] | None) -> dict[str, dict[str, int]]:
    """{song: {holder: version}} a verification payload relied on."""
    out: dict[str, dict[str, int]] = {}
    for d in (verification or {}).get("decisions") or []:
        ref = d.get("reference") if isinstance(d, dict) else None
        song = ref.get("song_id") if isinstance(ref, dict) else None
        versions = d.get("consent_versions") if isinstance(d, dict) else None
        if isinstance(song, str) and isinstance(versions, dict):
            for holder, v in versions.items():
                if isinstance(holder, str) and type(v) is int:
                    out.setdefault(song, {})[holder] = v
    return out


def use_event(
    event_id: str,
    payload: Mapping[str, Any],
    verification: Mapping[str, Any] | None = None,
    receipt: str | None = None,
) -> UseEvent | None:
    """The UseEvent of a generation payload; None when it names no use (nothing to price)."""
    request = payload.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("use"), str):
        return None
    refs = request.get("references") or []
    provenance = payload.get("provenance")
    if not isinstance(provenance, dict):
        return UseEvent(event_id, request["use"], (), receipt=receipt)
    merged: dict[tuple[str, str], float] = {}
    for s in provenance.get("shares") or []:
        if not isinstance(s, dict):
            continue
        song, share = s.get("song_id"), s.get("share")
        if not isinstance(song, str) or song == USER_SOURCE:
            continue
        if isinstance(share, bool) or not isinstance(share, int | float) or not share > 0:
            continue
        level = "song"
        i = s.get("reference")
        if type(i) is int and 0 <= i < len(refs) and isinstance(refs[i], dict):
            lv = refs[i].get("level")
            level = lv if lv in LEVELS else "song"
        merged[(song, level)] = merged.get((song, level), 0.0) + float(share)
    training: dict[str, float] = {}
    estimates = provenance.get("training_attribution")
    if isinstance(estimates, dict):
        for song, w in estimates.items():
            if isinstance(song, str) and isinstance(w, int | float) and w > 0:
                training[song] = float(w)
    contributions = tuple(
        Contribution(song, min(share, 1.0), level)
        for (song, level), share in sorted(merged.items())
    )
    return UseEvent(
        event_id,
        request["use"],
        contributions,
        training=training,
        receipt=receipt,
        consent_versions=consent_versions(verification),
    )
