"""The studio's door to the ledger's records: the latest events, the chain check, and putting
damage on record (``musicapp ledger show|verify|repair|reanchor``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.ledger import LedgerError

if TYPE_CHECKING:
    from musicapp.ledger import ChainReport, Damage, Event, Ledger


class RecordsRoom:
    """Reads the ledger for the front ends, and records the user's repair decisions in it."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @property
    def path(self) -> Path:
        return Path(self._ledger.path)

    @property
    def cli_args(self) -> str:
        """What `musicapp ledger …` needs to find this data folder (see context.py)."""
        return self._ledger.cli_args

    @property
    def damage(self) -> Damage | None:
        """What stops the ledger from taking new events, as last found (no I/O)."""
        return self._ledger.damage

    def verify(self) -> ChainReport:
        """Re-hash the whole chain and compare its end with the head anchor."""
        return self._ledger.verify()

    def latest(self, limit: int) -> list[Event]:
        """The newest ``limit`` events, oldest first (all of them for 0, as a slice gives)."""
        return list(self._ledger.events())[-limit:]

    def damage_to_record(self, repair: bool) -> tuple[ChainReport, Damage]:
        """The chain report and the damage a repair (or a reanchor) would put on record.
        Raises LedgerError when it cannot or need not act, saying why."""
        from musicapp.ledger.integrity import damage_of
        from musicapp.ledger.repair import refusal

        ledger = self._ledger
        report = ledger.verify()
        why = refusal(ledger, report, repair)
        damage = damage_of(report, ledger.path, ledger.cli_args)
        if why is not None or damage is None:
            what = "repair" if repair else "reanchor"
            raise LedgerError(why or f"ledger {ledger.path}: nothing to {what}")
        return report, damage

    def record_damage(self, repair: bool, reason: str = "") -> Event:
        """Append the ``ledger_repair`` (or ``ledger_reanchor``) event the user confirmed."""
        return (self._ledger.repair if repair else self._ledger.reanchor)(reason)
