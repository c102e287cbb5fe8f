"""The verified-through checkpoint and the files' seal: what lets opening skip re-hashing.

Opening a ledger must notice damage anywhere in it, but re-hashing a million events takes
seconds. So the ledger keeps, beside the database, a *checkpoint*: the newest event known to be
verified ``(seq, hash)``, the database's schema cookie at that moment, and the *seal* of its
files. Opening re-hashes only the events after the checkpoint, and only when every sentinel
says nothing else changed (see ``integrity.py``); otherwise it verifies everything.

The seal is a digest of the database file's inode, size, modification and change time, and
its write-ahead log's inode, size and modification time. Any write to either file changes it:
an edit with the sqlite3 shell, a hex editor, a copy put in place (a new inode, or a new change
time, which no user can set back), a restored backup. musicapp records the seal after each of its own commits (in the
head anchor, ``anchor.py``) and after it closes the database (here), so "the files are as
musicapp last left them" is one comparison. A seal that does not match only costs a full
verify; it never counts as damage by itself (a crash, another program reading the database
and checkpointing its log on close, an old musicapp version: all harmless, all re-verified).

The checkpoint is written with a temporary file and a rename, not synced: losing it (a power
cut) means one full verify at the next open, nothing worse. It is not a secret either: like the
anchor it stops an unwary edit, not a forger who rewrites the database and these files to match
(only the rights server's receipts can catch that).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

_HASH = re.compile(r"[0-9a-f]{64}")
_SEAL = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Checkpoint:
    """Events 1..seq were verified (or written by musicapp on top of verified events)."""

    seq: int
    hash: str
    schema: int  # SQLite's schema cookie (PRAGMA schema_version) when it was written
    seal: str  # files_seal() when it was written


def checkpoint_path(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".verified")


def _stamp(path: str, log: bool) -> str:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "-"
    if log and st.st_size == 0:
        # SQLite creates an empty log when it opens the database: nothing can hide in it.
        return "-"
    if log:
        # Not the log's change time: running as root, SQLite gives the log its database's
        # owner each time a connection opens it, which counts as a change even for readers.
        return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def seal_of(database: str, log: str) -> str:
    """``files_seal`` from the two files' names (what a writer keeps, to save a few µs)."""
    text = f"{_stamp(database, log=False)}|{_stamp(log, log=True)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def files_seal(ledger_path: Path) -> str:
    """A digest of the database's and its log's identity, size and times (see above)."""
    return seal_of(str(ledger_path), f"{ledger_path}-wal")


def _check(seq: int, hash_: str, schema: int, seal: str) -> str:
    # Catches torn and accidental writes, not forgery (see above).
    text = f"musicapp-ledger-verified:{seq}:{hash_}:{schema}:{seal}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint in ``path``; None when there is none or it is unreadable (both mean:
    verify everything)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seq, hash_, schema, seal = data["seq"], data["hash"], data["schema"], data["seal"]
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError):
        return None
    if not (
        isinstance(seq, int)
        and isinstance(schema, int)
        and seq >= 0
        and isinstance(hash_, str)
        and _HASH.fullmatch(hash_)
        and isinstance(seal, str)
        and _SEAL.fullmatch(seal)
        and data.get("check") == _check(seq, hash_, schema, seal)
    ):
        return None
    return Checkpoint(seq, hash_, schema, seal)


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint in ``path`` (atomically: readers see the old one or the new)."""
    c = checkpoint
    data = {"seq": c.seq, "hash": c.hash, "schema": c.schema, "seal": c.seal}
    data["check"] = _check(c.seq, c.hash, c.schema, c.seal)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        tmp.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
