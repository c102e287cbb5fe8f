"""The head anchor: the ledger's newest (seq, hash), kept in a small file beside the database.

The anchor lives outside SQLite so that cutting the newest rows off the database (or restoring an
older copy of it) leaves a witness that says how long the chain was. It is written after each
commit, so it is never ahead of the database; after a crash or power cut it may lag a few events
behind, which is harmless: a lagging anchor only weakens the check for those events, it never
raises a false alarm.

The file has two slots, 4 KiB apart; event N goes to slot N % 2, overwritten in place. Each slot
is one line of JSON with a checksum, so a torn write spoils only the slot being written and a
reader takes the valid slot with the higher seq: readers always see a whole anchor, the old one
or the new one. This is what temp-file-and-rename gives, at a fraction of the cost (a rename
over an existing file cost more than the SQLite commit itself). A new ledger gets an anchor at
seq 0 (the genesis hash), so a missing file always means someone removed it.

Each slot also carries the *seal* of the database files right after the commit it records
(``checkpoint.files_seal``): how opening and the next writer tell "the files are as musicapp left
them" from "something else wrote to them". Readers that do not know the seal ignore it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

SLOT_SIZE = 4096
_SLOTS = 2
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Anchor:
    """The newest event the ledger had when the anchor was written (seq 0: none yet)."""

    seq: int
    hash: str
    # The database files' seal after the commit that wrote this anchor; None when unknown.
    seal: str | None = field(default=None, compare=False)


class AnchorUnreadable(Exception):
    """The anchor file exists but does not hold an anchor; the message says why."""


def anchor_path(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".head")


def _check(seq: int, hash_: str) -> str:
    # Catches torn writes and accidental edits, not forgery: the function is public.
    return hashlib.sha256(f"musicapp-ledger-head:{seq}:{hash_}".encode()).hexdigest()[:16]


def _seal_check(seq: int, seal: str) -> str:
    return hashlib.sha256(f"musicapp-ledger-seal:{seq}:{seal}".encode()).hexdigest()[:16]


def _parse_slot(raw: bytes) -> Anchor | None:
    """The anchor in one slot; None for an empty slot; ValueError for a spoilt one."""
    text = raw.strip(b"\x00 \n").decode("utf-8")
    if not text:
        return None
    data = json.loads(text)
    seq, hash_ = data["seq"], data["hash"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError(f"seq {seq!r} is not a whole number")
    if not isinstance(hash_, str) or not _HASH.fullmatch(hash_):
        raise ValueError(f"hash {hash_!r} is not 64 hex digits")
    if data.get("check") != _check(seq, hash_):
        raise ValueError("checksum does not match")
    seal = data.get("seal")
    if not isinstance(seal, str) or data.get("seal_check") != _seal_check(seq, seal):
        seal = None  # an older musicapp's anchor, or a spoilt seal: only a full verify trusts
    return Anchor(seq, hash_, seal)


def read_anchor(path: Path) -> Anchor | None:
    """The anchor in ``path``, None if there is no such file; AnchorUnreadable if it is garbage."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorUnreadable(f"{path}: {exc.strerror or exc}") from exc
    found: list[Anchor] = []
    spoilt: list[str] = []
    for i in range(_SLOTS):
        try:
            anchor = _parse_slot(raw[i * SLOT_SIZE : (i + 1) * SLOT_SIZE])
        except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
            spoilt.append(f"slot {i + 1}: {exc}")
            continue
        if anchor is not None:
            found.append(anchor)
    if len(raw) > _SLOTS * SLOT_SIZE:
        raise AnchorUnreadable(f"{path}: not a ledger head anchor (too long)")
    if not found:
        why = "; ".join(spoilt) if spoilt else "empty"
        raise AnchorUnreadable(f"{path}: not a ledger head anchor ({why})")
    return max(found, key=lambda a: a.seq)


def _slot(anchor: Anchor) -> tuple[int, bytes]:
    """Where ``anchor`` goes in the file and the bytes of its slot."""
    seal = ""
    if anchor.seal is not None:
        seal = (
            f',"seal":{json.dumps(anchor.seal)},'
            f'"seal_check":"{_seal_check(anchor.seq, anchor.seal)}"'
        )
    line = (
        f'{{"check":"{_check(anchor.seq, anchor.hash)}","hash":{json.dumps(anchor.hash)},'
        f'"seq":{int(anchor.seq)}{seal}}}'
    )
    slot = (line + "\n").encode("utf-8").ljust(SLOT_SIZE, b" ")
    if len(slot) > SLOT_SIZE:
        raise ValueError(f"anchor for seq {anchor.seq} does not fit a slot")
    return (anchor.seq % _SLOTS) * SLOT_SIZE, slot


def _open(path: Path) -> int:
    # O_BINARY keeps Windows from translating newlines.
    return os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)


def _put(fd: int, anchor: Anchor, sync: bool) -> None:
    # lseek + write rather than pwrite, which Windows lacks; callers do not share the fd
    # between threads without a lock, so the seek cannot race.
    offset, slot = _slot(anchor)
    os.lseek(fd, offset, os.SEEK_SET)
    os.write(fd, slot)
    if sync:
        os.fsync(fd)


def write_anchor(path: Path, anchor: Anchor, *, sync: bool = False) -> None:
    """Write ``anchor`` into its slot; with ``sync``, wait until it is on disk.

    Appends do not sync: the event itself is already durable in SQLite, and an anchor that a
    power cut leaves behind only lags (harmless, see above). Creating a ledger does sync, so its
    seq-0 anchor cannot vanish and be mistaken for a removed one.
    """
    fd = _open(path)
    try:
        _put(fd, anchor, sync)
    finally:
        os.close(fd)


class AnchorWriter:
    """``write_anchor`` for one ledger's appends, through a descriptor kept open between them.

    Opening and closing the file cost about as much as the write itself (8 of 14 µs a write
    here). If the file was removed or replaced meanwhile (the open one has no links left), it is
    opened again, so the anchor always lands in the file at ``path``. Not thread-safe: the
    ledger writes under its lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def write(self, anchor: Anchor) -> None:
        if self._fd >= 0 and os.fstat(self._fd).st_nlink == 0:
            self.close()
        if self._fd < 0:
            self._fd = _open(self.path)
        _put(self._fd, anchor, sync=False)

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)
