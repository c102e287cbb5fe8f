"""Changing a ledger's database the way someone outside musicapp would, for tests and benchmarks."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from musicapp.ledger.schema import COLUMNS


def tamper(
    path: Path, *statements: str | tuple[str, tuple[Any, ...]], restore: bool = True
) -> None:
    """Edit the database as a careful attacker would with the sqlite3 shell: drop the
    append-only guards, run ``statements``, and (with ``restore``) put the same guards back."""
    raw = sqlite3.connect(path)
    try:
        guards = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        for name, _ in guards:
            raw.execute(f"DROP TRIGGER {name}")
        for st in statements:
            if isinstance(st, tuple):
                raw.execute(*st)
            else:
                raw.execute(st)
        if restore:
            for _, sql in guards:
                raw.execute(sql)
        raw.commit()
    finally:
        raw.close()


def stored_row(path: Path, seq: int) -> tuple[Any, ...]:
    """The row of event ``seq`` as stored: (seq, id, kind, ts, payload, prev_hash, hash)."""
    with sqlite3.connect(path) as raw:
        return raw.execute(f"SELECT {COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
