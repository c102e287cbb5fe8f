"""Tables (SQLAlchemy Core), the engine, and numbered schema migrations.

Migrations are a small numbered list recorded in ``schema_version`` rather than Alembic: the
schema is young and one file keeps it readable; each step runs in its own transaction.
Consent versions, songs, feed changes, ledger events and Merkle nodes are only ever inserted.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy import LargeBinary as Blob

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("holder_id", String(200), nullable=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("public_key", String(64), nullable=True),
    Column("created_at", String(40), nullable=False),
)

token_log = Table(
    "token_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("action", String(10), nullable=False),  # issued, rotated, revoked
    Column("actor", String(64), nullable=False),  # the account that did it, or "cli"
    Column("at", String(40), nullable=False),
)

changes = Table(
    "changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),
    Column("data", Text, nullable=False),
)

songs = Table(
    "songs",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("data", Text, nullable=False),
    Column("seq", Integer, ForeignKey("changes.seq"), nullable=False),
)

song_holders = Table(
    "song_holders",
    metadata,
    Column("song_id", String(200), ForeignKey("songs.id"), primary_key=True),
    Column("holder_id", String(200), primary_key=True),
    Column("split", Float, nullable=False),
    Index("ix_song_holders_holder", "holder_id"),
)

consent = Table(
    "consent",
    metadata,
    Column("song_id", String(200), ForeignKey("songs.id"), primary_key=True),
    Column("holder_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("permissions", Text, nullable=False),
    Column("uses", Text, nullable=False),
    Column("effective_from", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
    Column("prices", Text, nullable=True),
    Column("recorded_at", String(40), nullable=False),
    Column("seq", Integer, ForeignKey("changes.seq"), nullable=False),
)

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("device_id", String(64), ForeignKey("accounts.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("event_id", String(200), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_utc", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signature", String(100), nullable=False),
    Column("leaf_index", Integer, nullable=False, unique=True),
    Column("receipt_size", Integer, nullable=False),
    Column("received_at", String(40), nullable=False),
    Index("ix_ledger_events_event_id", "device_id", "event_id"),
    Index("ix_ledger_events_kind_time", "kind", "created_utc"),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", Integer, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("hash", Blob(32), nullable=False),
)

tree_heads = Table(
    "tree_heads",
    metadata,
    Column("tree_size", Integer, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),
    Column("timestamp", String(40), nullable=False),
    Column("signature", String(100), nullable=False),
)

log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", Integer, nullable=False),
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


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial tables", _v1_initial),
    (2, "token log", _v2_token_log),
]


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def migrate(engine: Engine) -> int:
    """Apply the migrations not yet recorded; returns the schema version now in force."""
    from datetime import UTC, datetime

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
