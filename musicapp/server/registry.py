"""Catalogue and consent registry: songs, versioned consent records, and the change feed.

Nothing here updates a row. A consent change or a revocation is a new version (previous + 1)
and a new feed change; the feed's ``seq`` is the one server-wide order clients sync by.
Functions take an open transaction so the HTTP routes and the admin CLI share them.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from musicapp.core.consent import Permission
from musicapp.core.consent import check_prices as core_check_prices
from musicapp.core.model import InvalidInput, Level, Use
from musicapp.ledger.canonical import canonical_json
from musicapp.server import db
from musicapp.server.auth import Account
from musicapp.server.errors import ApiError
from musicapp.server.fields import parse_time

PERMISSIONS = tuple(p.value for p in Permission)
USES = tuple(u.value for u in Use)
LEVELS = tuple(lv.value for lv in Level)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _add_change(conn: Connection, kind: str, data: dict[str, Any]) -> int:
    result = conn.execute(insert(db.changes).values(kind=kind, data=canonical_json(data)))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


# -- songs ---------------------------------------------------------------------------------------


def check_song(song: dict[str, Any]) -> None:
    """The facts the registry relies on: an id and rights holders whose splits add up to 1."""
    if not isinstance(song.get("id"), str) or not song["id"].strip():
        raise ApiError(422, "song.id: a non-empty string is required")
    holders = song.get("rights_holders")
    if not isinstance(holders, list) or not holders:
        raise ApiError(422, "song.rights_holders: at least one rights holder is required")
    seen: set[str] = set()
    total = 0.0
    for i, h in enumerate(holders):
        where = f"song.rights_holders[{i}]"
        if not isinstance(h, dict) or not isinstance(h.get("id"), str) or not h["id"]:
            raise ApiError(422, f"{where}.id: a non-empty string is required")
        split = h.get("split")
        if (
            isinstance(split, bool)
            or not isinstance(split, int | float)
            or not math.isfinite(split)
        ):
            raise ApiError(422, f"{where}.split: a number is required")
        if not 0 < split <= 1:
            raise ApiError(422, f"{where}.split: {split} is not in (0, 1]")
        if h["id"] in seen:
            raise ApiError(422, f"{where}.id: {h['id']!r} appears twice")
        seen.add(h["id"])
        total += float(split)
    if abs(total - 1.0) > 1e-6:
        raise ApiError(422, f"song.rights_holders: splits add up to {total:.6f}, not 1")


def add_song(conn: Connection, song: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Register a song; identical again is a no-op (returns created False), different is 409."""
    check_song(song)
    db.lock_registry(conn)  # several server processes: one registry writer at a time
    text = canonical_json(song, "song")
    row = conn.execute(select(db.songs.c.data).where(db.songs.c.id == song["id"])).first()
    if row is not None:
        if row.data == text:
            return song, False
        raise ApiError(409, f"song.id: {song['id']!r} is already registered with different facts")
    seq = _add_change(conn, "song", song)
    conn.execute(insert(db.songs).values(id=song["id"], data=text, seq=seq))
    conn.execute(
        insert(db.song_holders),
        [
            {"song_id": song["id"], "holder_id": h["id"], "split": float(h["split"])}
            for h in song["rights_holders"]
        ],
    )
    return song, True


def song_splits(conn: Connection, song_id: str) -> dict[str, float]:
    rows = conn.execute(
        select(db.song_holders.c.holder_id, db.song_holders.c.split).where(
            db.song_holders.c.song_id == song_id
        )
    )
    return {r.holder_id: r.split for r in rows}


def _require_song(conn: Connection, song_id: str) -> dict[str, float]:
    if conn.execute(select(db.songs.c.id).where(db.songs.c.id == song_id)).first() is None:
        raise ApiError(404, f"song_id: no song {song_id!r} is registered")
    return song_splits(conn, song_id)


# -- consent -------------------------------------------------------------------------------------


def authorise_consent_change(
    conn: Connection, account: Account, song_id: str, holder_id: str
) -> None:
    """Admins may change any consent; a holder only its own, for songs it holds a split in."""
    splits = _require_song(conn, song_id)
    if holder_id not in splits:
        raise ApiError(422, f"holder_id: {holder_id!r} holds no split in song {song_id!r}")
    if account.role == "admin":
        return
    if account.role != "holder":
        raise ApiError(403, f"a {account.role} account cannot change consent")
    if account.holder_id not in splits:
        raise ApiError(403, f"your holder {account.holder_id!r} holds no split in song {song_id!r}")
    if account.holder_id != holder_id:
        raise ApiError(403, f"holder_id: you act for {account.holder_id!r}, not {holder_id!r}")


def record_dict(row: Any) -> dict[str, Any]:
    """The consent record as the feed and history show it (codec form + prices + recorded_at)."""
    return {
        "song_id": row.song_id,
        "holder_id": row.holder_id,
        "version": row.version,
        "permissions": json.loads(row.permissions),
        "uses": json.loads(row.uses),
        "effective_from": row.effective_from,
        "revoked_at": row.revoked_at,
        "prices": json.loads(row.prices) if row.prices else None,
        "recorded_at": row.recorded_at,
    }


def check_prices(prices: dict[str, float] | None) -> dict[str, float] | None:
    if prices is None:
        return None
    try:
        return core_check_prices(prices)
    except InvalidInput as exc:
        raise ApiError(422, str(exc)) from None


def latest_consent(conn: Connection, song_id: str, holder_id: str) -> Any:
    return conn.execute(
        select(db.consent)
        .where(db.consent.c.song_id == song_id, db.consent.c.holder_id == holder_id)
        .order_by(db.consent.c.version.desc())
        .limit(1)
    ).first()


def _insert_consent(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    db.lock_registry(conn)  # before reading the version: several server processes
    previous = conn.execute(
        select(func.max(db.consent.c.version)).where(
            db.consent.c.song_id == values["song_id"], db.consent.c.holder_id == values["holder_id"]
        )
    ).scalar()
    values = {**values, "version": (previous or 0) + 1, "recorded_at": now_iso()}
    record = {
        **values,
        "permissions": sorted(values["permissions"]),
        "uses": sorted(values["uses"]),
    }
    seq = _add_change(conn, "consent", record)
    conn.execute(
        insert(db.consent).values(
            song_id=values["song_id"],
            holder_id=values["holder_id"],
            version=values["version"],
            permissions=json.dumps(record["permissions"]),
            uses=json.dumps(record["uses"]),
            effective_from=values["effective_from"],
            revoked_at=values["revoked_at"],
            prices=json.dumps(values["prices"]) if values["prices"] is not None else None,
            recorded_at=values["recorded_at"],
            seq=seq,
        )
    )
    return {**record, "seq": seq}


def set_consent(
    conn: Connection,
    account: Account,
    song_id: str,
    holder_id: str,
    permissions: list[str],
    uses: list[str],
    effective_from: str | None = None,
    prices: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A new consent version for (song, holder); returns the record with its version and seq."""
    authorise_consent_change(conn, account, song_id, holder_id)
    for p in permissions:
        if p not in PERMISSIONS:
            raise ApiError(422, f"permissions: {p!r} is not one of {', '.join(PERMISSIONS)}")
    for u in uses:
        if u not in USES:
            raise ApiError(422, f"uses: {u!r} is not one of {', '.join(USES)}")
    when = parse_time(effective_from, "effective_from") if effective_from else datetime.now(UTC)
    return _insert_consent(
        conn,
        {
            "song_id": song_id,
            "holder_id": holder_id,
            "permissions": sorted(set(permissions)),
            "uses": sorted(set(uses)),
            "effective_from": when.isoformat(),
            "revoked_at": None,
            "prices": check_prices(prices),
        },
    )


def revoke_consent(
    conn: Connection, account: Account, song_id: str, holder_id: str, revoked_at: str | None = None
) -> dict[str, Any]:
    """A new version copying the current flags with ``revoked_at`` set (effective from then)."""
    authorise_consent_change(conn, account, song_id, holder_id)
    current = latest_consent(conn, song_id, holder_id)
    if current is None:
        raise ApiError(404, f"song_id: {holder_id!r} has no consent on record for {song_id!r}")
    if current.revoked_at is not None:
        raise ApiError(
            409,
            f"consent of {holder_id!r} for {song_id!r} is already revoked (version {current.version})",
        )
    when = parse_time(revoked_at, "revoked_at") if revoked_at else datetime.now(UTC)
    return _insert_consent(
        conn,
        {
            "song_id": song_id,
            "holder_id": holder_id,
            "permissions": json.loads(current.permissions),
            "uses": json.loads(current.uses),
            "effective_from": when.isoformat(),
            "revoked_at": when.isoformat(),
            "prices": json.loads(current.prices) if current.prices else None,
        },
    )


def consent_history(conn: Connection, account: Account, song_id: str) -> list[dict[str, Any]]:
    """Every version of every holder's consent for the song, for its holders and admins."""
    splits = _require_song(conn, song_id)
    if account.role != "admin" and not (account.role == "holder" and account.holder_id in splits):
        raise ApiError(
            403, f"only the rights holders of {song_id!r} (or an admin) may read its history"
        )
    rows = conn.execute(
        select(db.consent)
        .where(db.consent.c.song_id == song_id)
        .order_by(db.consent.c.holder_id, db.consent.c.version)
    )
    return [record_dict(r) for r in rows]


# -- feed ----------------------------------------------------------------------------------------


def feed(conn: Connection, since: int, limit: int) -> dict[str, Any]:
    """Changes after ``since`` in seq order; ``next`` is the cursor to pass back."""
    rows = conn.execute(
        select(db.changes)
        .where(db.changes.c.seq > since)
        .order_by(db.changes.c.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "changes": [{"seq": r.seq, "kind": r.kind, "data": json.loads(r.data)} for r in rows],
        "next": rows[-1].seq if rows else since,
        "more": more,
    }
