"""What the ledger intake accepts in an event's payload, by kind (pure: no I/O, no database).

The log is append-only, so a payload that statements cannot read must never be stored: one bad
share would break every statement of its period for good. The fields money and consent depend
on are checked strictly (``generation``: shares, royalties, the use and the references they
credit; ``verification``: decisions, consent versions, the consent cache it relied on;
``export``: the attribution it embeds); every other field, and every other kind, only has to be
bounded: nesting depth and size (the canonical encoding has already refused NaN and Infinity,
and hashing the event refuses strings that are not valid Unicode: ``bad_string`` names them).
Unknown fields are allowed everywhere, so a newer app's extra fields pass.

``check_payload`` raises ``PayloadError`` whose message starts with the field's path
(``payload.provenance.shares[1].share: ...``); the intake prefixes the event's seq.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from musicapp.core.provenance import USER_INDEX, USER_SOURCE
from musicapp.ledger.kinds import EXPORT, GENERATION, VERIFICATION

USES = ("private", "non_commercial", "commercial")
MAX_DEPTH = 32  # the app's payloads nest 6 deep at most
MAX_PAYLOAD_CHARS = 1 << 20  # canonical JSON text; the app's biggest (a long take) ~100 kB
MAX_ITEMS = 1000  # references, shares, decisions, holders of one event
MAX_ID = 200  # song, holder and event ids: the server's id columns
MAX_VERSION = 2**31 - 1  # consent versions: the server's integer column
# Shares are rounded to 9 decimals each when logged, so n of them may miss 1 by n * 5e-10
# on top of the provenance's own tolerance (core.provenance.SHARE_TOLERANCE).
SHARE_TOLERANCE = 1e-6


class PayloadError(ValueError):
    """A payload the intake refuses; the message names the field and what is wrong."""


def _tolerance(n: int) -> float:
    return SHARE_TOLERANCE + 1e-9 * n


def _excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{where}: {_excerpt(value)} is not a number")
    try:
        out = float(value)
    except OverflowError:
        raise PayloadError(f"{where}: {_excerpt(value)} is too large") from None
    if not math.isfinite(out):
        raise PayloadError(f"{where}: {_excerpt(value)} is not a finite number")
    return out


def _fraction(value: Any, where: str) -> float:
    out = _number(value, where)
    if not 0.0 <= out <= 1.0:
        raise PayloadError(f"{where}: {_excerpt(value)} is not between 0 and 1")
    return out


def _nonnegative(value: Any, where: str) -> float:
    out = _number(value, where)
    if out < 0:
        raise PayloadError(f"{where}: {_excerpt(value)} is negative")
    return out


def _integer(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{where}: {_excerpt(value)} is not an integer")
    if not lo <= value <= hi:
        raise PayloadError(f"{where}: {_excerpt(value)} is not between {lo} and {hi}")
    return value


def _text(value: Any, where: str, max_len: int = MAX_ID) -> str:
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where}: {_excerpt(value)} is not a non-empty string")
    if len(value) > max_len:
        raise PayloadError(f"{where}: {len(value)} characters, more than {max_len}")
    return value


def _optional_text(value: Any, where: str, max_len: int = MAX_ID) -> str | None:
    return None if value is None else _text(value, where, max_len)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: {_excerpt(value)} is not an object")
    return value


def _list(value: Any, where: str, max_items: int = MAX_ITEMS) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{where}: {_excerpt(value)} is not a list")
    if len(value) > max_items:
        raise PayloadError(f"{where}: {len(value)} items, more than {max_items}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PayloadError(f"{where}: {_excerpt(value)} is not true or false")
    return value


def _use(value: Any, where: str) -> str:
    if value not in USES:
        raise PayloadError(f"{where}: {_excerpt(value)} is not one of {', '.join(USES)}")
    return str(value)


def _time(value: Any, where: str) -> None:
    text = _text(value, where, 40)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where}: {_excerpt(value)} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{where}: {_excerpt(value)} has no time zone")
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise PayloadError(
            f"{where}: {_excerpt(value)} is outside the years 1 to 9999 in UTC"
        ) from None


# -- the generic bound, for every kind -----------------------------------------------------------


def check_bounds(payload: Any, text_len: int) -> None:
    """Size (of the canonical text) and nesting depth. Strings are valid Unicode once the
    event's hash is computed (a lone surrogate cannot be encoded): ``bad_string`` names one."""
    if text_len > MAX_PAYLOAD_CHARS:
        raise PayloadError(f"payload: {text_len:,} characters, more than {MAX_PAYLOAD_CHARS:,}")
    # Containers only, without paths: the common case (a payload that is fine) stays cheap.
    level: list[Any] = [payload]
    for _ in range(MAX_DEPTH + 1):
        deeper = [
            sub
            for item in level
            for sub in (item.values() if type(item) is dict else item)
            if type(sub) is dict or type(sub) is list
        ]
        if not deeper:
            return
        level = deeper
    raise PayloadError(f"{_deepest(payload)}: nested more than {MAX_DEPTH} levels deep")


def _deepest(payload: Any) -> str:
    """The path of a value nested deepest (only asked for when it is too deep)."""
    best, stack = ("payload", 0), [(payload, "payload", 0)]
    while stack:
        item, path, depth = stack.pop()
        best = max(best, (path, depth), key=lambda x: x[1])
        if depth > MAX_DEPTH + 1:
            continue
        subs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, sub in subs:
            if isinstance(sub, dict | list):
                at = f"{path}.{key}" if isinstance(item, dict) else f"{path}[{key}]"
                stack.append((sub, at, depth + 1))
    return best[0]


def bad_string(payload: Any) -> str | None:
    """Where a string (or key) holds a lone surrogate ("\\ud800": it parses from JSON but has
    no UTF-8 form, so the event cannot be hashed), and what it holds; None if nowhere."""
    stack: list[tuple[Any, str]] = [(payload, "payload")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"{path}: holds {item[exc.start]!r}, a lone surrogate, not valid Unicode"
        elif isinstance(item, dict):
            for key, sub in item.items():
                stack.extend(((key, f"{path} (a key)"), (sub, f"{path}.{key}")))
        elif isinstance(item, list):
            stack.extend((sub, f"{path}[{i}]") for i, sub in enumerate(item))
    return None


# -- the fields money and consent depend on ------------------------------------------------------


def _reference(value: Any, where: str) -> dict[str, Any]:
    ref = _object(value, where)
    song_id = _text(ref.get("song_id"), f"{where}.song_id")
    if song_id.startswith("@"):
        raise PayloadError(f"{where}.song_id: {_excerpt(song_id)} is reserved, not a song id")
    for field in ("level", "role", "via", "part"):
        _optional_text(ref.get(field), f"{where}.{field}", 100)
    if "weight" in ref:
        _nonnegative(ref["weight"], f"{where}.weight")
    rng = ref.get("time_range")
    if rng is not None:
        items = _list(rng, f"{where}.time_range", 2)
        if len(items) != 2:
            raise PayloadError(f"{where}.time_range: {_excerpt(rng)} is not [start, end]")
        start = _nonnegative(items[0], f"{where}.time_range[0]")
        end = _number(items[1], f"{where}.time_range[1]")
        if end <= start:
            raise PayloadError(f"{where}.time_range: the end {end} is not after the start {start}")
    return ref


def _request(value: Any, where: str) -> tuple[str, list[dict[str, Any]]]:
    """(use, references) of a request object."""
    request = _object(value, where)
    use = _use(request.get("use"), f"{where}.use")
    refs = _list(request.get("references", []), f"{where}.references")
    return use, [_reference(r, f"{where}.references[{i}]") for i, r in enumerate(refs)]


def song_shares(shares: list[dict[str, Any]]) -> tuple[dict[str, float], float]:
    """({song_id: share summed over its entries}, the user's own share) of checked shares."""
    songs: dict[str, float] = {}
    user = 0.0
    for entry in shares:
        share = float(entry["share"])
        if entry["song_id"] == USER_SOURCE:
            user += share
        else:
            songs[entry["song_id"]] = songs.get(entry["song_id"], 0.0) + share
    return songs, user


def _shares(
    value: Any, where: str, references: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], float]:
    """Checked shares and the user's own share. With ``references`` (the request's), each
    song's entry must point at a reference of that song."""
    shares = _list(value, where)
    if not shares:
        raise PayloadError(f"{where}: no shares")
    total = 0.0
    for i, raw in enumerate(shares):
        at = f"{where}[{i}]"
        entry = _object(raw, at)
        song_id = _text(entry.get("song_id"), f"{at}.song_id")
        index = _integer(entry.get("reference"), f"{at}.reference", USER_INDEX, MAX_ITEMS)
        total += _fraction(entry.get("share"), f"{at}.share")
        if (song_id == USER_SOURCE) != (index == USER_INDEX):
            raise PayloadError(
                f"{at}: the user's own audio is reference {USER_INDEX} with song_id "
                f"{USER_SOURCE!r}, and only it"
            )
        if song_id.startswith("@") and song_id != USER_SOURCE:
            raise PayloadError(f"{at}.song_id: {_excerpt(song_id)} is reserved, not a song id")
        if references is not None and index != USER_INDEX:
            if index >= len(references):
                raise PayloadError(
                    f"{at}.reference: {index}, but the request has {len(references)} reference(s)"
                )
            if references[index]["song_id"] != song_id:
                raise PayloadError(
                    f"{at}.song_id: {_excerpt(song_id)}, but reference {index} is song "
                    f"{_excerpt(references[index]['song_id'])}"
                )
    if abs(total - 1.0) > _tolerance(len(shares)):
        raise PayloadError(f"{where}: the shares add up to {total:.9f}, not 1")
    return shares, song_shares(shares)[1]


def _holder_fractions(value: Any, where: str, owed: float) -> None:
    """``{holder: share}``, each in [0, 1], adding up to ``owed`` (1 minus the user's share)."""
    royalties = _object(value, where)
    if len(royalties) > MAX_ITEMS:
        raise PayloadError(f"{where}: {len(royalties)} holders, more than {MAX_ITEMS}")
    total = 0.0
    for holder, share in royalties.items():
        _text(holder, f"{where} (a holder id)")
        total += _fraction(share, f"{where}.{holder}")
    if abs(total - owed) > _tolerance(len(royalties)):
        raise PayloadError(f"{where}: the holders' shares add up to {total:.9f}, not {owed:.9f}")


def _generation(payload: dict[str, Any]) -> None:
    use, refs = _request(payload.get("request"), "payload.request")
    if "use" in payload and payload["use"] != use:
        raise PayloadError(f"payload.use: {_excerpt(payload['use'])} differs from request.use")
    provenance = _object(payload.get("provenance"), "payload.provenance")
    user_share = _shares(provenance.get("shares"), "payload.provenance.shares", refs)[1]
    if payload.get("royalties") is not None:
        _holder_fractions(payload["royalties"], "payload.royalties", 1.0 - user_share)
    _optional_text(payload.get("verification_event_id"), "payload.verification_event_id")
    for field in ("duration_s", "sample_rate"):
        if payload.get(field) is not None:
            _nonnegative(payload[field], f"payload.{field}")


def _decision(value: Any, where: str) -> None:
    decision = _object(value, where)
    _reference(decision.get("reference"), f"{where}.reference")
    if "allowed" in decision:
        _bool(decision["allowed"], f"{where}.allowed")
    versions = _object(decision.get("consent_versions", {}), f"{where}.consent_versions")
    if len(versions) > MAX_ITEMS:
        raise PayloadError(f"{where}.consent_versions: more than {MAX_ITEMS} holders")
    for holder, version in versions.items():
        _text(holder, f"{where}.consent_versions (a holder id)")
        _integer(version, f"{where}.consent_versions.{holder}", 1, MAX_VERSION)
    for field in ("reasons", "alternatives"):
        if field in decision:
            _list(decision[field], f"{where}.{field}")


def _consent_cache(value: Any, where: str) -> None:
    cache = _object(value, where)
    for field in ("local_only", "stale"):
        if field in cache:
            _bool(cache[field], f"{where}.{field}")
    url = cache.get("server_url")
    if url is not None and (not isinstance(url, str) or len(url) > 2000):
        raise PayloadError(f"{where}.server_url: {_excerpt(url)} is not a URL")
    if "ttl_s" in cache:
        _nonnegative(cache["ttl_s"], f"{where}.ttl_s")
    for field in ("cache_age_s", "clock_offset_s"):
        if cache.get(field) is not None:
            _number(cache[field], f"{where}.{field}")
    if cache.get("last_pull_at") is not None:
        _time(cache["last_pull_at"], f"{where}.last_pull_at")


def _verification(payload: dict[str, Any]) -> None:
    if "use" in payload:
        _use(payload["use"], "payload.use")
    if "allowed" in payload:
        _bool(payload["allowed"], "payload.allowed")
    if payload.get("request") is not None:
        _request(payload["request"], "payload.request")
    decisions = _list(payload.get("decisions", []), "payload.decisions")
    for i, decision in enumerate(decisions):
        _decision(decision, f"payload.decisions[{i}]")
    if payload.get("consent_cache") is not None:
        _consent_cache(payload["consent_cache"], "payload.consent_cache")


def _export(payload: dict[str, Any]) -> None:
    if "use" in payload:
        _use(payload["use"], "payload.use")
    user_share = 0.0
    if payload.get("user_share") is not None:
        user_share = _fraction(payload["user_share"], "payload.user_share")
    refs = _list(payload.get("references", []), "payload.references")
    credited = 0.0
    for i, raw in enumerate(refs):
        ref = _reference(raw, f"payload.references[{i}]")
        if ref.get("share") is not None:
            credited += _fraction(ref["share"], f"payload.references[{i}].share")
    if refs and abs(credited + user_share - 1.0) > _tolerance(len(refs)):
        raise PayloadError(
            f"payload.references: the shares add up to {credited:.9f} with the user's "
            f"{user_share:.9f}, not 1"
        )
    holders = _list(payload.get("rights_holders", []), "payload.rights_holders")
    for i, raw in enumerate(holders):
        holder = _object(raw, f"payload.rights_holders[{i}]")
        _text(holder.get("id"), f"payload.rights_holders[{i}].id")
        _fraction(holder.get("share"), f"payload.rights_holders[{i}].share")
    for field in ("generation_event_id", "verification_event_id", "export_event_id"):
        _optional_text(payload.get(field), f"payload.{field}")
    for field in ("sample_rate", "channels"):
        if payload.get(field) is not None:
            _integer(payload[field], f"payload.{field}", 1, MAX_VERSION)
    if payload.get("provenance") is not None:
        provenance = _object(payload["provenance"], "payload.provenance")
        _shares(provenance.get("shares"), "payload.provenance.shares", None)


BY_KIND: dict[str, Callable[[dict[str, Any]], None]] = {
    GENERATION: _generation,
    VERIFICATION: _verification,
    EXPORT: _export,
}


def check_payload(kind: str, payload: Any, text_len: int) -> None:
    """Raise PayloadError naming the field when ``payload`` of ``kind`` may not be logged.

    ``text_len`` is the length of its canonical JSON text (already encoded by the intake)."""
    if not isinstance(payload, dict):
        raise PayloadError(f"payload: {_excerpt(payload)} is not an object")
    check_bounds(payload, text_len)
    checker = BY_KIND.get(kind)
    if checker is not None:
        checker(payload)
