"""A period's inputs as JSON: the events and rights a statement was computed from, so whoever
receives them (a rights holder through the server's API, the app, an auditor) recomputes the
statement with ``period.compute`` and gets the same cents.

The form (``BASIS_FORMAT`` 1), every float a JSON number (Python writes the shortest text that
reads back as the same double, so the round trip is exact)::

    {"format": 1, "from": ISO, "to": ISO, "inputs_sha256": hex,
     "events": [{"event_id", "use", "contributions": [{"song_id", "share", "level"}],
                 "training": {song: weight}, "receipt": str | null,
                 "consent_versions": {song: {holder: version}}}],
     "rights": {song: [{"holder_id", "split", "prices": {tier: euros}, "version": int | null}]}}

``inputs_sha256`` is ``period.inputs_digest`` of the events and rights, the digest a statement
states: a basis whose digest is not that of its own contents is refused, and one whose digest
equals a statement's holds the facts that statement was computed from. Reading is strict: an
unknown key, a missing one or a value of the wrong type raises ValueError naming its path
(``events[3].contributions[0].share``), because a basis that reads "nearly" would give a
statement that differs by cents nobody can explain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from musicapp.royalties.period import LEVELS, Contribution, HolderTerms, UseEvent, inputs_digest

BASIS_FORMAT = 1

_TOP = ("format", "from", "to", "inputs_sha256", "events", "rights")
_EVENT = ("event_id", "use", "contributions", "training", "receipt", "consent_versions")
_CONTRIBUTION = ("song_id", "share", "level")
_TERMS = ("holder_id", "split", "prices", "version")


def basis_to_dict(
    events: Sequence[UseEvent],
    rights: Mapping[str, Sequence[HolderTerms]],
    period_from: str,
    period_to: str,
) -> dict[str, Any]:
    """The period's inputs as plain JSON values (events in the order given, rights by song)."""
    return {
        "format": BASIS_FORMAT,
        "from": period_from,
        "to": period_to,
        "inputs_sha256": inputs_digest(events, rights),
        "events": [_event_dict(e) for e in events],
        "rights": {
            song: [
                {
                    "holder_id": t.holder_id,
                    "split": float(t.split),
                    "prices": {k: float(v) for k, v in sorted(t.prices.items())},
                    "version": t.version,
                }
                for t in terms
            ]
            for song, terms in sorted(rights.items())
        },
    }


def _event_dict(e: UseEvent) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "use": e.use,
        "contributions": [
            {"song_id": c.song_id, "share": float(c.share), "level": c.level}
            for c in e.contributions
        ],
        "training": {s: float(w) for s, w in sorted(e.training.items())},
        "receipt": e.receipt,
        "consent_versions": {
            s: {h: int(v) for h, v in sorted(hv.items())}
            for s, hv in sorted(e.consent_versions.items())
        },
    }


def basis_from_dict(
    d: Any,
) -> tuple[list[UseEvent], dict[str, list[HolderTerms]], str, str]:
    """(events, rights, period_from, period_to) of a basis; ValueError naming the bad field."""
    top = _object(d, "", _TOP)
    if type(top["format"]) is not int or top["format"] != BASIS_FORMAT:
        raise ValueError(f"format: {top['format']!r} is not a basis format this reads (1)")
    period_from = _text(top["from"], "from")
    period_to = _text(top["to"], "to")
    raw_events = _list(top["events"], "events")
    events = [_event(x, f"events[{i}]") for i, x in enumerate(raw_events)]
    seen: set[str] = set()
    for i, e in enumerate(events):
        if e.event_id in seen:
            raise ValueError(f"events[{i}].event_id: {e.event_id!r} appears twice")
        seen.add(e.event_id)
    raw_rights = top["rights"]
    if not isinstance(raw_rights, dict):
        raise ValueError("rights: not an object of songs")
    rights: dict[str, list[HolderTerms]] = {}
    for song, terms in raw_rights.items():
        path = f"rights.{song}"
        rights[song] = [_terms(t, f"{path}[{i}]") for i, t in enumerate(_list(terms, path))]
    digest = _text(top["inputs_sha256"], "inputs_sha256")
    actual = inputs_digest(events, rights)
    if digest != actual:
        raise ValueError(
            f"inputs_sha256: {digest} is not the digest of this basis's events and rights "
            f"({actual}): they were changed after it was made"
        )
    return events, rights, period_from, period_to


def _event(x: Any, path: str) -> UseEvent:
    e = _object(x, path, _EVENT)
    contributions = tuple(
        _contribution(c, f"{path}.contributions[{i}]")
        for i, c in enumerate(_list(e["contributions"], f"{path}.contributions"))
    )
    training = {
        song: _number(w, f"{path}.training.{song}")
        for song, w in _mapping(e["training"], f"{path}.training").items()
    }
    receipt = e["receipt"]
    if receipt is not None:
        receipt = _text(receipt, f"{path}.receipt")
    versions: dict[str, dict[str, int]] = {}
    for song, held in _mapping(e["consent_versions"], f"{path}.consent_versions").items():
        versions[song] = {
            holder: _integer(v, f"{path}.consent_versions.{song}.{holder}")
            for holder, v in _mapping(held, f"{path}.consent_versions.{song}").items()
        }
    return UseEvent(
        _text(e["event_id"], f"{path}.event_id"),
        _text(e["use"], f"{path}.use"),
        contributions,
        training=training,
        receipt=receipt,
        consent_versions=versions,
    )


def _contribution(x: Any, path: str) -> Contribution:
    c = _object(x, path, _CONTRIBUTION)
    share = _number(c["share"], f"{path}.share")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{path}.share: {share} is not in [0, 1]")
    level = _text(c["level"], f"{path}.level")
    if level not in LEVELS:
        raise ValueError(f"{path}.level: {level!r} is not one of {', '.join(LEVELS)}")
    return Contribution(_text(c["song_id"], f"{path}.song_id"), share, level)


def _terms(x: Any, path: str) -> HolderTerms:
    t = _object(x, path, _TERMS)
    split = _number(t["split"], f"{path}.split")
    prices = {
        tier: _number(p, f"{path}.prices.{tier}")
        for tier, p in _mapping(t["prices"], f"{path}.prices").items()
    }
    version = t["version"]
    if version is not None:
        version = _integer(version, f"{path}.version")
    return HolderTerms(_text(t["holder_id"], f"{path}.holder_id"), split, prices, version)


def _object(x: Any, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """``x`` as an object with exactly ``keys`` (``path`` "" is the basis itself)."""
    if not isinstance(x, dict):
        raise ValueError(f"{path or 'basis'}: not an object")
    at = f"{path}." if path else ""
    unknown = sorted(set(x) - set(keys), key=str)
    if unknown:
        raise ValueError(f"{at}{unknown[0]}: not a field here (expected {', '.join(keys)})")
    missing = [k for k in keys if k not in x]
    if missing:
        raise ValueError(f"{at}{missing[0]}: missing")
    return x


def _mapping(x: Any, path: str) -> dict[str, Any]:
    if not isinstance(x, dict) or not all(isinstance(k, str) for k in x):
        raise ValueError(f"{path}: not an object")
    return x


def _list(x: Any, path: str) -> list[Any]:
    if not isinstance(x, list):
        raise ValueError(f"{path}: not a list")
    return x


def _text(x: Any, path: str) -> str:
    if not isinstance(x, str) or not x:
        raise ValueError(f"{path}: {_shown(x)} is not a non-empty string")
    return x


def _number(x: Any, path: str) -> float:
    """A finite number >= 0 (shares, splits, prices and weights are never negative)."""
    try:
        ok = not isinstance(x, bool) and isinstance(x, int | float) and math.isfinite(x) and x >= 0
    except OverflowError:  # an integer past any double
        ok = False
    if not ok:
        raise ValueError(f"{path}: {_shown(x)} is not a finite number >= 0")
    return float(x)


def _integer(x: Any, path: str) -> int:
    """A consent version: an integer in 0 .. 2**63 - 1 (what the server's columns hold)."""
    if type(x) is not int or not 0 <= x < 2**63:
        raise ValueError(f"{path}: {_shown(x)} is not an integer in 0 .. 2**63 - 1")
    return x


def _shown(x: Any) -> str:
    """A short excerpt of a bad value for an error message (never a huge one in full)."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10**30:
        return "an integer of more than 30 digits"
    text = repr(x)
    return text if len(text) <= 60 else f"{text[:60]}..."
