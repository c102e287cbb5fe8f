"""Tables (SQLAlchemy Core), the engine, and numbered schema migrations.

Migrations are a small numbered list recorded in ``schema_version`` rather than Alembic: the
schema is young and one file keeps it readable; each step runs in its own transaction.
Consent versions, songs, feed changes, ledger events, Merkle nodes and statement lines are only
ever inserted; so are rights claims and their decisions, which triggers also guard
(``APPEND_ONLY``: an UPDATE or DELETE of them fails in the database itself). On PostgreSQL several server processes may share one database: migrations run
under an advisory lock, registry writes serialise on a lock of ``changes`` (``lock_registry``),
and the log's appends on its ``log_state`` row (``translog``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
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
    select,
    text,
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
    # The newest registry change (changes.seq) the intake saw: lines are priced as of it.
    Column("registry_seq", Integer, nullable=False),
    Index("ix_ledger_events_event_id", "device_id", "event_id"),
    Index("ix_ledger_events_kind_time", "kind", "created_utc"),
    # An event already logged (by any device) is refused: looked up by id and by hash.
    Index("ix_ledger_events_id", "event_id"),
    Index("ix_ledger_events_hash", "hash"),
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

# What each logged generation owes each holder (musicapp/server/lines.py); a statement is a range
# of this table's key, and its total a sum over the same range. Clustered by that key on SQLite.
statement_lines = Table(
    "statement_lines",
    metadata,
    Column("holder_id", String(200), primary_key=True),
    Column("created_utc", String(40), primary_key=True),
    Column("device_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("song_id", String(200), primary_key=True),
    Column("event_id", String(200), nullable=False),
    Column("use", String(20), nullable=False),
    Column("share", Float, nullable=False),
    Column("split", Float, nullable=False),
    Column("price_version", Integer, nullable=True),
    Column("price", Float, nullable=False),
    Column("amount_nano", BigInteger, nullable=False),
    Column("flags", String(100), nullable=False),
    sqlite_with_rowid=False,
)

# One device per public key: a clone of a device's key cannot register and replay its events.
device_keys = Table(
    "device_keys",
    metadata,
    Column("public_key", String(64), primary_key=True),
    Column("device_id", String(64), ForeignKey("accounts.id"), nullable=False),
)

# The C2PA signing certificates the server's CA issued (server/ca.py); revoked ones are on the CRL.
device_certificates = Table(
    "device_certificates",
    metadata,
    Column("serial", String(50), primary_key=True),  # decimal: up to 159 bits
    Column("device_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("key_fingerprint", String(64), nullable=False),  # sha256 hex of the key's SPKI
    Column("issued_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
    Column("reason", String(200), nullable=True),
    Column("certificate", Text, nullable=False),  # PEM
)

# Rights claims (server/claims.py): a device declares its user the one rights holder of a song
# the server does not hold yet; the admin confirms or rejects it. Both tables are append-only
# (``APPEND_ONLY``); a claim's status is derived: pending while it has no decision.
claims = Table(
    "claims",
    metadata,
    Column("id", String(32), primary_key=True),  # uuid4 hex
    Column("song_id", String(200), nullable=False, index=True),
    Column("title", Text, nullable=True),
    Column("holder_id", String(200), nullable=False),
    Column("holder_name", String(200), nullable=False),
    Column("song", Text, nullable=False),  # the song facts as claimed, canonical JSON
    Column("permissions", Text, nullable=False),  # JSON list, sorted
    Column("uses", Text, nullable=False),  # JSON list, sorted
    Column("device_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("created_at", String(40), nullable=False),
    Index("ix_claims_created", "created_at", "id"),
)

claim_decisions = Table(
    "claim_decisions",
    metadata,
    Column("claim_id", String(32), ForeignKey("claims.id"), primary_key=True),  # one per claim
    Column("decision", String(10), nullable=False),  # confirmed, rejected
    Column("reason", String(500), nullable=True),
    Column("admin_id", String(64), nullable=False),  # the admin account, or "cli"
    Column("at", String(40), nullable=False),
)

log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", Integer, nullable=False),
)


APPEND_ONLY = ("claims", "claim_decisions")
"""Tables whose rows triggers keep as inserted (``create_append_only_guards``)."""

_PG_GUARD_FUNCTION = """CREATE OR REPLACE FUNCTION musicapp_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END $$"""


def create_append_only_guards(conn: Connection, tables: Sequence[str] = APPEND_ONLY) -> None:
    """Triggers refusing every UPDATE and DELETE of ``tables`` (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(_PG_GUARD_FUNCTION))
        for table in tables:
            conn.execute(
                text(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION musicapp_append_only()"
                )
            )
        return
    for table in tables:
        for op in ("UPDATE", "DELETE"):
            conn.execute(
                text(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
                )
            )


REGISTRY_LOCK = "LOCK TABLE changes IN SHARE ROW EXCLUSIVE MODE"


def lock_registry(conn: Connection) -> None:
    """Serialise registry writes across server processes (PostgreSQL; SQLite has one writer).

    Feed clients page by ``changes.seq``: a change committed after a higher seq was read would
    be skipped for good, and two processes could give a consent the same version. Held until the
    transaction ends; the intake's SHARE lock waits for it, so lines see a whole registry.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text(REGISTRY_LOCK))


def snapshot_registry(conn: Connection) -> int:
    """The newest registry change, with no registry write in flight (PostgreSQL: a SHARE lock
    on ``changes`` until the transaction ends); what the lines of this intake are priced at."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE changes IN SHARE MODE"))
    return int(conn.execute(select(func.coalesce(func.max(changes.c.seq), 0))).scalar_one())


def insert_rows(
    conn: Connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """One executemany at the driver level.

    For a batch of a thousand events SQLAlchemy's per-row parameter processing costs more than
    the inserts themselves; both drivers take the plain tuples (bytes for blobs included).
    """
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})",
        rows,
    )


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    if url.startswith("sqlite"):
        # A connection per request thread (anyio runs up to 40 at once), kept: an overflow
        # connection is closed when returned, and opening one runs the PRAGMAs below again.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=False,
            pool_size=48,
            max_overflow=16,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # 20 connections a process, kept (an overflow connection is closed when returned, and
    # opening one costs a PostgreSQL backend): 4 processes stay under the default 100.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=0)
