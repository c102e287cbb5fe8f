"""Royalty statements per rights holder and period, from the ledger events the server received.

For each received ``generation`` or ``export`` event in [from, to) (by the event's own time):
each referenced song's share of the output (``payload.provenance.shares``, summed per song)
× the holder's split in that song × the price per use for the event's use tier. The price
comes from the consent version the verification relied on (the generation's
``verification_event_id`` → that event's ``decisions[].consent_versions[holder]``); without
one, from the holder's current consent for the song; without prices, 0.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from musicapp.server import db
from musicapp.server.registry import latest_consent

KINDS = ("generation", "export")
COLUMNS = ("event_id", "song_id", "use", "share", "split", "price", "amount")


def _use_of(payload: dict[str, Any]) -> str | None:
    request = payload.get("request")
    if isinstance(request, dict) and isinstance(request.get("use"), str):
        return str(request["use"])
    use = payload.get("use")
    return str(use) if isinstance(use, str) else None


def _song_shares(payload: dict[str, Any]) -> dict[str, float]:
    provenance = payload.get("provenance")
    out: dict[str, float] = {}
    if not isinstance(provenance, dict):
        return out
    for s in provenance.get("shares") or []:
        if isinstance(s, dict) and isinstance(s.get("song_id"), str):
            out[s["song_id"]] = out.get(s["song_id"], 0.0) + float(s.get("share", 0.0))
    return out


def _relied_versions(
    conn: Connection, device_id: str, payload: dict[str, Any]
) -> dict[str, dict[str, int]]:
    """{song_id: {holder_id: version}} from the verification event the generation cites."""
    vid = payload.get("verification_event_id")
    if not isinstance(vid, str):
        return {}
    t = db.ledger_events.c
    row = conn.execute(select(t.payload).where(t.device_id == device_id, t.event_id == vid)).first()
    if row is None:
        return {}
    out: dict[str, dict[str, int]] = {}
    for d in json.loads(row.payload).get("decisions") or []:
        ref = d.get("reference") or {}
        versions = d.get("consent_versions") or {}
        if isinstance(ref.get("song_id"), str) and isinstance(versions, dict):
            out.setdefault(ref["song_id"], {}).update(versions)
    return out


def _price(conn: Connection, song_id: str, holder_id: str, use: str, version: int | None) -> float:
    c = db.consent.c
    row = None
    if version is not None:
        row = conn.execute(
            select(db.consent).where(
                c.song_id == song_id, c.holder_id == holder_id, c.version == version
            )
        ).first()
    if row is None:
        row = latest_consent(conn, song_id, holder_id)
    if row is None or not row.prices:
        return 0.0
    return float(json.loads(row.prices).get(use, 0.0))


def statement(conn: Connection, holder_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    splits = {
        r.song_id: r.split
        for r in conn.execute(
            select(db.song_holders.c.song_id, db.song_holders.c.split).where(
                db.song_holders.c.holder_id == holder_id
            )
        )
    }
    t = db.ledger_events.c
    rows = conn.execute(
        select(t.device_id, t.event_id, t.payload)
        .where(
            t.kind.in_(KINDS),
            t.created_utc >= start.astimezone(UTC).isoformat(timespec="microseconds"),
            t.created_utc < end.astimezone(UTC).isoformat(timespec="microseconds"),
        )
        .order_by(t.created_utc, t.device_id, t.seq)
    )
    lines: list[dict[str, Any]] = []
    for row in rows:
        payload = json.loads(row.payload)
        use = _use_of(payload)
        shares = _song_shares(payload)
        mine = {s: v for s, v in shares.items() if s in splits}
        if use is None or not mine:
            continue
        relied = _relied_versions(conn, row.device_id, payload)
        for song_id, share in sorted(mine.items()):
            version = relied.get(song_id, {}).get(holder_id)
            price = _price(conn, song_id, holder_id, use, version)
            split = splits[song_id]
            lines.append(
                {
                    "event_id": row.event_id,
                    "song_id": song_id,
                    "use": use,
                    "share": share,
                    "split": split,
                    "price": price,
                    "amount": round(share * split * price, 9),
                }
            )
    return {
        "holder_id": holder_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "currency": "EUR",
        "lines": lines,
        "total": round(sum(line["amount"] for line in lines), 9),
    }


def to_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in report["lines"]:
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in line.items()})
    return buf.getvalue()
