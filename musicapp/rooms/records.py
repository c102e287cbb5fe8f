"""The studio's door to the ledger's records: the latest events, the chain check, putting damage
on record (``musicapp ledger show|verify|repair|reanchor``, the damage banner), and checking a
file against the records (``musicapp verify``, your audio found by its content)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from musicapp.jobs import FunctionJob
from musicapp.ledger import LedgerError

if TYPE_CHECKING:
    from musicapp.export import ContentMatch, FileReport
    from musicapp.export.links import Credit, Link
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

    def check_job(self) -> FunctionJob[Damage | None]:
        """Look at the ledger again (e.g. after `musicapp ledger repair` ran elsewhere)."""
        return FunctionJob("Check the ledger", lambda _p, _c: self._ledger.check().damage, "io")

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

    # -- files checked against the records ------------------------------------------------------

    def verify_file(
        self,
        path: Path,
        *,
        offline: bool = False,
        ca: Path | None = None,
        crl: Path | None = None,
    ) -> FileReport:
        """Check a file against its tags and the ledger; an untagged one is found by content.
        ``offline``: as a third party would, with no ledger, only the file and the rights
        server's CA certificate ``ca`` and its revocation list ``crl`` (default: the ones this
        device pinned and fetched, if any)."""
        from musicapp.export import verify_file
        from musicapp.export.offline import verify_offline

        if offline:
            return verify_offline(Path(path), ca, crl=crl, data_dir=self.path.parent)
        return verify_file(Path(path), self._ledger, self.content_index_path)

    def links(self, report: FileReport) -> list[Link]:
        """``report`` as the chain the Verify window shows: file → record → C2PA → ledger event
        → device → receipt → consent, each link with its state and why."""
        from musicapp.export.links import links_of

        return links_of(report)

    def credits(self, report: FileReport) -> list[Credit]:
        """The references the file's record names, with their shares (largest first)."""
        from musicapp.export.links import credits_of

        return credits_of(report)

    @property
    def content_index_path(self) -> Path:
        from musicapp.export.index import default_index_path

        return default_index_path(self._ledger)

    def find_by_content(
        self, path_or_audio: Path | NDArray[Any], sample_rate: int | None = None
    ) -> ContentMatch | None:
        """The export or take this audio (a file, or float audio at ``sample_rate``) came from."""
        from musicapp.export.lookup import find_by_content

        return find_by_content(
            path_or_audio, self._ledger, self.content_index_path, sample_rate=sample_rate
        )
