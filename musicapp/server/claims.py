"""Rights claims: a device declares its user the one rights holder of a song the server does not
hold yet, and the server's admin confirms or rejects the claim.

Confirming registers the song exactly as claimed and publishes consent version 1 for the holder
through the registry (``registry.add_song``, ``registry.set_consent``), so both reach the change
feed like any other song and consent; the claim's decision is recorded in the same transaction.
A claim and its decision are only ever inserted (triggers guard both tables, ``db.APPEND_ONLY``);
the status is derived: pending while a claim has no decision. Functions take an open
transaction so the HTTP routes (``routes_claims``) and the admin CLI (``cli_claims``) share them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection, Select, insert, or_, select

from musicapp.core.times import excerpt
from musicapp.ledger.canonical import canonical_json
from musicapp.server import db, registry
from musicapp.server.auth import Account, require_role
from musicapp.server.errors import ApiError
from musicapp.server.fields import MAX_NAME

STATUSES = ("pending", "confirmed", "rejected")
MAX_REASON = 500
MAX_LIST = 1000
PRIVATE = "private"


# -- checks --------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_claim(
    song: dict[str, Any], holder_id: str, permissions: list[str], uses: list[str]
) -> tuple[str, str | None]:
    """(holder name, title) of a claim the server can take; ApiError 422 naming the field."""
    holders = song.get("rights_holders")
    if isinstance(holders, list) and len(holders) > 1:
        raise ApiError(
            422,
            "song.rights_holders: a claim names one rights holder (the claimant, at split 1.0), "
            f"not {len(holders)}",
        )
    if isinstance(holders, list) and holders and isinstance(holders[0], dict):
        split = holders[0].get("split")
        if _is_number(split) and split != 1:
            raise ApiError(
                422,
                "song.rights_holders[0].split: the claimant holds the whole song (1.0), "
                f"not {excerpt(str(split))}",
            )
    registry.check_song(song)
    holder = song["rights_holders"][0]
    if holder["id"] != holder_id:
        raise ApiError(
            422,
            f"holder_id: {excerpt(holder_id)!r} is not the song's rights holder "
            f"({excerpt(holder['id'])!r})",
        )
    name = holder.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ApiError(
            422, f"song.rights_holders[0].name: the holder's name, 1-{MAX_NAME} characters"
        )
    title = song.get("title")
    if title is not None and not isinstance(title, str):
        raise ApiError(422, "song.title: a string is required")
    for p in permissions:
        if p not in registry.PERMISSIONS:
            raise ApiError(
                422,
                f"permissions: {excerpt(p)!r} is not one of {', '.join(registry.PERMISSIONS)}",
            )
    for u in uses:
        if u not in registry.USES:
            raise ApiError(422, f"uses: {excerpt(u)!r} is not one of {', '.join(registry.USES)}")
    if PRIVATE not in uses:
        raise ApiError(422, f"uses: a claim's uses include {PRIVATE!r}")
    return name, title


def check_reason(reason: str) -> str:
    if not reason.strip() or len(reason) > MAX_REASON:
        raise ApiError(422, f"reason: why the claim is rejected, 1-{MAX_REASON} characters")
    return reason


# -- reading -------------------------------------------------------------------------------------


def _select() -> Select[Any]:
    c, d = db.claims.c, db.claim_decisions.c
    return select(db.claims, d.decision, d.reason, d.admin_id, d.at).select_from(
        db.claims.outerjoin(db.claim_decisions, d.claim_id == c.id)
    )


def claim_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "song_id": row.song_id,
        "title": row.title,
        "holder_id": row.holder_id,
        "holder_name": row.holder_name,
        "permissions": json.loads(row.permissions),
        "uses": json.loads(row.uses),
        "status": row.decision or "pending",
        "reason": row.reason,
        "device_id": row.device_id,
        "created_at": row.created_at,
        "decided_at": row.at,
        "decided_by": row.admin_id,
    }


def _row(conn: Connection, claim_id: str) -> Any:
    row = conn.execute(_select().where(db.claims.c.id == claim_id)).first()
    if row is None:
        raise ApiError(404, f"claim_id: no claim {excerpt(claim_id)!r} on this server")
    return row


def get_claim(conn: Connection, account: Account, claim_id: str) -> dict[str, Any]:
    """The claim, for the device that made it and for admins; 404 for anyone else."""
    row = _row(conn, claim_id)
    if account.role != "admin" and row.device_id != account.id:
        raise ApiError(404, f"claim_id: no claim {excerpt(claim_id)!r} on this server")
    return claim_dict(row)


def list_claims(
    conn: Connection, account: Account, status: str | None = None, limit: int | None = 500
) -> list[dict[str, Any]]:
    """Claims oldest first: every claim for an admin, a device's own for a device."""
    require_role(account, "admin", "device")
    if status is not None and status not in STATUSES:
        raise ApiError(422, f"status: {excerpt(status)!r} is not one of {', '.join(STATUSES)}")
    c, d = db.claims.c, db.claim_decisions.c
    query = _select().order_by(c.created_at, c.id)
    if account.role == "device":
        query = query.where(c.device_id == account.id)
    if status == "pending":
        query = query.where(d.decision.is_(None))
    elif status is not None:
        query = query.where(d.decision == status)
    if limit is not None:
        query = query.limit(limit)
    return [claim_dict(r) for r in conn.execute(query)]


def _registered(conn: Connection, song_id: str) -> bool:
    return conn.execute(select(db.songs.c.id).where(db.songs.c.id == song_id)).first() is not None


def _already_registered(song_id: str) -> ApiError:
    return ApiError(409, f"song.id: {song_id!r} is already registered on this server")


# -- writing -------------------------------------------------------------------------------------


def make_claim(
    conn: Connection,
    account: Account,
    song: dict[str, Any],
    holder_id: str,
    permissions: list[str],
    uses: list[str],
) -> tuple[dict[str, Any], bool]:
    """(the claim, created). The same device claiming the same song for the same holder while
    that claim is pending or confirmed gets it back (created False): a retry after a lost answer.
    """
    require_role(account, "device")
    holder_name, title = check_claim(song, holder_id, permissions, uses)
    db.lock_registry(conn)  # several server processes: one claim check at a time
    c, d = db.claims.c, db.claim_decisions.c
    song_id = song["id"]
    own = conn.execute(
        _select()
        .where(
            c.song_id == song_id,
            c.holder_id == holder_id,
            c.device_id == account.id,
            or_(d.decision.is_(None), d.decision == "confirmed"),
        )
        .order_by(c.created_at.desc(), c.id)
        .limit(1)
    ).first()
    if own is not None:
        return claim_dict(own), False
    if _registered(conn, song_id):
        raise _already_registered(song_id)
    pending = conn.execute(
        _select().where(c.song_id == song_id, d.decision.is_(None)).limit(1)
    ).first()
    if pending is not None:
        raise ApiError(409, f"song.id: {song_id!r} already has a pending claim on this server")
    claim_id = uuid.uuid4().hex
    conn.execute(
        insert(db.claims).values(
            id=claim_id,
            song_id=song_id,
            title=title,
            holder_id=holder_id,
            holder_name=holder_name,
            song=canonical_json(song, "song"),
            permissions=json.dumps(sorted(set(permissions))),
            uses=json.dumps(sorted(set(uses))),
            device_id=account.id,
            created_at=registry.now_iso(),
        )
    )
    return claim_dict(_row(conn, claim_id)), True


def _name_elsewhere(conn: Connection, holder_id: str, name: str) -> tuple[str, Any] | None:
    """(song id, name) of a registered song naming ``holder_id`` otherwise than ``name``."""
    rows = conn.execute(
        select(db.songs.c.id, db.songs.c.data)
        .join(db.song_holders, db.song_holders.c.song_id == db.songs.c.id)
        .where(db.song_holders.c.holder_id == holder_id)
        .order_by(db.songs.c.seq)
    )
    for row in rows:
        for holder in json.loads(row.data).get("rights_holders", []):
            if holder.get("id") == holder_id and holder.get("name") != name:
                return row.id, holder.get("name")
    return None


def _pending_row(conn: Connection, account: Account, claim_id: str, verb: str) -> Any:
    require_role(account, "admin")
    db.lock_registry(conn)  # before reading the status: several server processes
    row = _row(conn, claim_id)
    status = row.decision or "pending"
    if status != "pending":
        raise ApiError(
            409, f"claim_id: claim {claim_id} is {status}; only a pending claim can be {verb}"
        )
    return row


def _decide(
    conn: Connection, account: Account, claim_id: str, decision: str, reason: str | None
) -> None:
    conn.execute(
        insert(db.claim_decisions).values(
            claim_id=claim_id,
            decision=decision,
            reason=reason,
            admin_id=account.id,
            at=registry.now_iso(),
        )
    )


def confirm(conn: Connection, account: Account, claim_id: str) -> dict[str, Any]:
    """Register the song as claimed, publish consent version 1, mark the claim confirmed.

    Returns ``{"claim": ..., "consent": the consent record with its seq}``.
    """
    row = _pending_row(conn, account, claim_id, "confirmed")
    if _registered(conn, row.song_id):
        raise ApiError(
            409,
            f"song.id: {row.song_id!r} is already registered on this server (since the claim "
            "was made); reject the claim",
        )
    clash = _name_elsewhere(conn, row.holder_id, row.holder_name)
    if clash is not None:
        other_song, other_name = clash
        raise ApiError(
            409,
            f"holder_id: {row.holder_id!r} is already the rights holder of song {other_song!r} "
            f"on this server under another name ({excerpt(str(other_name))!r}, not "
            f"{row.holder_name!r}); two people cannot share a holder id: reject the claim",
        )
    registry.add_song(conn, json.loads(row.song))
    record = registry.set_consent(
        conn, account, row.song_id, row.holder_id, json.loads(row.permissions), json.loads(row.uses)
    )
    _decide(conn, account, claim_id, "confirmed", None)
    return {"claim": claim_dict(_row(conn, claim_id)), "consent": record}


def reject(conn: Connection, account: Account, claim_id: str, reason: str) -> dict[str, Any]:
    """Mark the claim rejected with the admin's reason; nothing reaches the feed."""
    require_role(account, "admin")
    reason = check_reason(reason)
    _pending_row(conn, account, claim_id, "rejected")
    _decide(conn, account, claim_id, "rejected", reason)
    return {"claim": claim_dict(_row(conn, claim_id))}
