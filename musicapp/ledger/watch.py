"""Watch over one open ledger between checks: its damage, its files' seal, its head anchor.

The ledger calls in at four moments: when it opens (``check``), before each write
(``before_write``: if anything but musicapp wrote the files since the last look, check again,
so nothing is added on top of an edit made while the ledger was open), after each commit
(``committed``: the new seal goes into the head anchor) and when it closes (``closing`` and
``closed``: the verified-through checkpoint moves to the head, unless something it cannot vouch
for happened meanwhile). The caller holds the ledger's lock throughout.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from musicapp.ledger import integrity
from musicapp.ledger.anchor import Anchor, anchor_path
from musicapp.ledger.canonical import GENESIS_HASH
from musicapp.ledger.checkpoint import (
    Checkpoint,
    checkpoint_path,
    read_checkpoint,
    seal_of,
    write_checkpoint,
)
from musicapp.ledger.damage import Damage, LedgerDamaged

log = logging.getLogger(__name__)

Reader = Callable[[], sqlite3.Connection]


def _schema(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA schema_version").fetchone()[0])


class DamageWatch:
    """The damage state of one open ledger file (``path``), for the ``Ledger`` that owns it."""

    def __init__(self, path: Path, cli_args: str = "") -> None:
        self.path = path
        self._files = (str(path), f"{path}-wal")  # stat'ed before and after every write
        self.anchor_path = anchor_path(path)
        self.checkpoint_path = checkpoint_path(path)
        self.cli_args = cli_args
        self.damage: Damage | None = None
        self.seal = ""  # the files' seal after the last check or commit
        self.last_check: integrity.CheckResult | None = None
        self.anchor: integrity.AnchorState = integrity.load_anchor(self.anchor_path)

    def _seal_now(self) -> str:
        return seal_of(*self._files)

    def created(self, db: sqlite3.Connection) -> None:
        """A new, empty ledger: it is verified through seq 0 as it stands."""
        self.save(Checkpoint(0, GENESIS_HASH, _schema(db), self._seal_now()))

    def check(self, db: sqlite3.Connection, reader: Reader) -> integrity.CheckResult:
        """Look for damage now (see ``integrity.check``) and record what was verified."""
        own = not db.in_transaction
        if own:
            db.execute("BEGIN")  # the cheap queries see one snapshot
        try:
            result = integrity.check(self.path, self.anchor_path, db, reader, self.cli_args)
        finally:
            if own:
                db.execute("COMMIT")
        self.last_check, self.damage, self.seal = result, result.damage, result.seal
        self.anchor = integrity.load_anchor(self.anchor_path)
        if result.checkpoint is not None and result.checkpoint != read_checkpoint(
            self.checkpoint_path
        ):
            self.save(result.checkpoint)
        return result

    def refuse_if_damaged(self, db: sqlite3.Connection, reader: Reader) -> None:
        if self.damage is not None and self._seal_now() != self.seal:
            self.check(db, reader)  # changed since: another process may have repaired it
        if self.damage is not None:
            raise LedgerDamaged(self.damage)

    def before_write(self, db: sqlite3.Connection, reader: Reader) -> None:
        """Inside the write transaction, before anything is inserted; LedgerDamaged if damaged."""
        seal = self._seal_now()
        if seal != self.seal:
            if self.damage is None and self._written_by_musicapp(seal):
                self.seal = seal
            else:
                self.check(db, reader)
        if self.damage is not None:
            raise LedgerDamaged(self.damage)

    def check_anchor(self, db: sqlite3.Connection, head: tuple[int, str] | None) -> None:
        """LedgerDamaged if the newest events disagree with the head anchor."""
        problem = integrity.anchor_problem(self.anchor, db, head)
        if problem is not None:
            # Another process may have moved the anchor on since we read it: look again.
            self.anchor = integrity.load_anchor(self.anchor_path)
            problem = integrity.anchor_problem(self.anchor, db, head)
        if problem is not None:
            self.damage = Damage(
                self.path, anchor=problem, problems=(problem,), cli_args=self.cli_args
            )
            raise LedgerDamaged(self.damage)

    def committed(self, last: tuple[Any, ...]) -> Anchor:
        """After a commit whose newest row is ``last``: the anchor to write, with the new seal."""
        self.seal = self._seal_now()
        self.anchor = Anchor(last[0], last[6], self.seal)
        return self.anchor

    def settled(self, db: sqlite3.Connection, last: tuple[Any, ...]) -> None:
        """After a repair or reanchor committed: its verify covered everything, so the ledger
        is verified through its newest event ``last``."""
        self.damage = None
        self.save(Checkpoint(last[0], last[6], _schema(db), self.seal))

    def closing(self, db: sqlite3.Connection) -> tuple[int, str, int] | None:
        """(seq, hash, schema) to record as verified once closed; None when it cannot vouch."""
        if self.damage is not None or self.last_check is None:
            return None
        seal = self._seal_now()
        if seal != self.seal and not self._written_by_musicapp(seal):
            return None  # something else wrote meanwhile: the next open verifies everything
        try:
            head = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            schema = _schema(db)
        except sqlite3.Error:
            return None
        seq, hash_ = head if head else (0, GENESIS_HASH)
        return seq, hash_, schema

    def closed(self, keep: tuple[int, str, int]) -> None:
        # Closing may have moved the log into the database: seal what it left.
        self.save(Checkpoint(*keep, self._seal_now()))

    def _written_by_musicapp(self, seal: str) -> bool:
        """True if another musicapp process left the files this way (its anchor or checkpoint
        records this seal); it checked them the same way before it wrote."""
        for attempt in range(3):
            anchor = integrity.load_anchor(self.anchor_path)
            saved = read_checkpoint(self.checkpoint_path)
            if isinstance(anchor, Anchor) and anchor.seal == seal:
                self.anchor = anchor
                return True
            if saved is not None and saved.seal == seal:
                return True
            if attempt < 2:
                # It writes its anchor just after its commit, which may be this very moment.
                time.sleep(0.001)
        return False

    def save(self, checkpoint: Checkpoint) -> None:
        try:
            write_checkpoint(self.checkpoint_path, checkpoint)
        except OSError as exc:
            # Without it the next open verifies everything: slower, never wrong.
            log.warning("ledger %s: could not write %s: %s", self.path, self.checkpoint_path, exc)
