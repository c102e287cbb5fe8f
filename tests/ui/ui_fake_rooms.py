"""Fakes of the studio's rooms (``musicapp/rooms/``) over a ``ui_fakes.FakeStudio``'s state, so
tests that flip its ``empty`` flag or its ``ledger`` damage see the rooms follow."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.catalog.import_report import ImportReport
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback
from musicapp.ledger import Damage

if TYPE_CHECKING:
    from ui_fakes import FakeStudio

    from musicapp.ui.services import LibraryPort, RecordsPort


class FakeLibrary:
    """The studio's library room over a FakeStudio (its `empty` flag and songs)."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio

    def is_empty(self) -> bool:
        return self._studio.empty

    def build_demo_job(self) -> FunctionJob[int]:
        studio = self._studio

        def run(progress: ProgressCallback, cancel: CancelToken) -> int:
            for k in range(5):
                cancel.check()
                time.sleep(studio.step_s)
                progress(Progress((k + 1) / 5, "demo catalogue", f"Added Song {k + 1}"))
            studio.empty = False
            return len(studio.songs)

        return FunctionJob("Build the demo catalogue", run, lane="io")

    def index_audio_job(self) -> FunctionJob[int] | None:
        return None  # the fake catalogue has no audio to index

    def import_job(self, path: Path, manifest: Path | None = None) -> FunctionJob[ImportReport]:
        """An import that finds nothing (the import dialog's tests give their own job)."""
        return FunctionJob("import_library", lambda _p, _c: ImportReport(), lane="io")


class FakeRecords:
    """The studio's records room over a FakeStudio (its `ledger` damage)."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio

    @property
    def damage(self) -> Damage | None:
        return self._studio.ledger

    def check_job(self) -> FunctionJob[Damage | None]:
        return FunctionJob("Check the ledger", lambda _p, _c: self._studio.ledger, "io")


if TYPE_CHECKING:

    def _library_fits(room: FakeLibrary) -> LibraryPort:
        return room

    def _records_fits(room: FakeRecords) -> RecordsPort:
        return room
