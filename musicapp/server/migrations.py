"""The rights server's numbered schema migrations and ``migrate(engine)``, which applies the
ones not yet recorded (under an advisory lock on PostgreSQL, so several processes starting at
once never run a step twice).

Apart from ``db.py`` (the tables) because a step may need the server's own logic: migration 3
computes the statement lines of the events already logged (``backfill``), and ``backfill``
needs the tables; kept in ``db.py``, that made an import loop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, insert, inspect, select, text

from musicapp.server import backfill
from musicapp.server.db import (
    accounts,
    changes,
    claim_decisions,
    claims,
    consent,
    create_append_only_guards,
    device_certificates,
    device_keys,
    ledger_events,
    log_state,
    merkle_nodes,
    metadata,
    schema_version,
    song_holders,
    songs,
    statement_lines,
    token_log,
    tree_heads,
)


def _v1_initial(conn: Connection) -> None:
    metadata.create_all(
        conn,
        tables=[
            accounts,
            changes,
            songs,
            song_holders,
            consent,
            ledger_events,
            merkle_nodes,
            tree_heads,
            log_state,
        ],
    )
    conn.execute(insert(log_state).values(id=1, size=0))


def _v2_token_log(conn: Connection) -> None:
    metadata.create_all(conn, tables=[token_log])


def _v3_lines_and_keys(conn: Connection) -> None:
    """Statement lines, unique device keys, lookups by event id and hash, registry_seq.

    Existing events get the registry as it is now, their lines computed as the intake would
    (a payload the intake would now refuse, or an event logged before under another device,
    gets none); the first device registered with a key keeps it.
    """
    registry_now = int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one())
    columns = {c["name"] for c in inspect(conn).get_columns("ledger_events")}
    if "registry_seq" not in columns:
        conn.execute(
            text(
                "ALTER TABLE ledger_events ADD COLUMN registry_seq INTEGER NOT NULL "
                f"DEFAULT {registry_now}"
            )
        )
    for index in ledger_events.indexes:
        index.create(conn, checkfirst=True)
    metadata.create_all(conn, tables=[statement_lines, device_keys])
    backfill.device_keys(conn)
    backfill.lines_table(conn)


def _v4_device_certificates(conn: Connection) -> None:
    metadata.create_all(conn, tables=[device_certificates])


def _v5_claims(conn: Connection) -> None:
    """Rights claims and their decisions, append-only (triggers refuse UPDATE and DELETE)."""
    metadata.create_all(conn, tables=[claims, claim_decisions])
    create_append_only_guards(conn, [claims.name, claim_decisions.name])


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial tables", _v1_initial),
    (2, "token log", _v2_token_log),
    (3, "statement lines, unique device keys, event lookups", _v3_lines_and_keys),
    (4, "device certificates", _v4_device_certificates),
    (5, "rights claims", _v5_claims),
]

MIGRATION_LOCK = 0x6D75_7369_6361_7070  # pg_advisory_lock key: "musicapp" in ASCII


def migrate(engine: Engine) -> int:
    """Apply the migrations not yet recorded; returns the schema version now in force."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as guard:
        if postgres:
            # Several processes starting at once (uvicorn workers, servers behind one address)
            # must not run the same step twice. A session lock: unlocked below, since a pooled
            # connection outlives this call.
            guard.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            guard.commit()
        try:
            return _apply_migrations(engine)
        finally:
            if postgres:
                guard.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
                guard.commit()


def _apply_migrations(engine: Engine) -> int:
    schema_version.create(engine, checkfirst=True)
    with engine.begin() as conn:
        current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
    for version, name, step in MIGRATIONS:
        if version <= current:
            continue
        with engine.begin() as conn:
            step(conn)
            conn.execute(
                insert(schema_version).values(
                    version=version, name=name, applied_at=datetime.now(UTC).isoformat()
                )
            )
        current = version
    return current
