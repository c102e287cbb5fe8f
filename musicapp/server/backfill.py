"""Derived tables rebuilt from what is stored: the migration's backfill and the audit's recompute.

Both read ``ledger_events`` rows and decide which count as the intake would now: a payload
``payloads.check_payload`` accepts, and the first logging of its event id (a replay logged
under another device before key uniqueness existed counts once). The intake refuses anything
else, so for events logged since then every generation counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from musicapp.server import db, lines
from musicapp.server.payloads import PayloadError, check_payload

PAGE = 1000


def _countable(conn: Connection, rows: Sequence[Any]) -> list[lines.Event]:
    t = db.ledger_events.c
    ids = sorted({r.event_id for r in rows})
    first: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        for r in conn.execute(
            select(t.event_id, func.min(t.leaf_index).label("first"))
            .where(t.event_id.in_(ids[i : i + 500]))
            .group_by(t.event_id)
        ):
            first[r.event_id] = int(r.first)
    out = []
    for row in rows:
        if first.get(row.event_id) != row.leaf_index:
            continue
        payload = json.loads(row.payload)
        try:
            check_payload(row.kind, payload, len(row.payload))
        except PayloadError:
            continue
        out.append(
            lines.Event(
                row.device_id,
                row.seq,
                row.event_id,
                row.kind,
                payload,
                row.created_utc,
                row.registry_seq,
            )
        )
    return out


def _columns() -> tuple[Any, ...]:
    t = db.ledger_events.c
    return (
        t.device_id,
        t.seq,
        t.event_id,
        t.kind,
        t.payload,
        t.created_utc,
        t.registry_seq,
        t.leaf_index,
    )


def _pages(conn: Connection, *where: Any) -> Iterator[Sequence[Any]]:
    """Stored rows of the statement kinds matching ``where``, in log order, a page at a time."""
    t = db.ledger_events.c
    after = -1
    while True:
        rows = conn.execute(
            select(*_columns())
            .where(t.kind.in_(lines.KINDS), t.leaf_index > after, *where)
            .order_by(t.leaf_index)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].leaf_index


def recompute(conn: Connection, *where: Any) -> list[lines.Line]:
    """The lines of the stored events matching ``where`` (clauses on ledger_events), computed
    from the events and the registry alone, never read from ``statement_lines``."""
    out: list[lines.Line] = []
    for rows in _pages(conn, *where):
        out += lines.compute(conn, _countable(conn, rows))
    return out


def lines_table(conn: Connection) -> None:
    """Fill ``statement_lines`` for every stored event (the migration that adds it)."""
    for rows in _pages(conn):
        db.insert_rows(
            conn,
            "statement_lines",
            lines.LINE_COLUMNS,
            lines.compute(conn, _countable(conn, rows)),
        )


def device_keys(conn: Connection) -> None:
    """``device_keys`` from the device accounts: the first registered with a key keeps it."""
    a = db.accounts.c
    seen: set[str] = set()
    rows = []
    for r in conn.execute(
        select(a.id, a.public_key)
        .where(a.role == "device", a.public_key.is_not(None))
        .order_by(a.created_at, a.id)
    ):
        if r.public_key not in seen:
            seen.add(r.public_key)
            rows.append((r.public_key, r.id))
    db.insert_rows(conn, "device_keys", ("public_key", "device_id"), rows)
