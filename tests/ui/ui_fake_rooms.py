"""Fakes of the studio's rooms (``musicapp/rooms/``) over a ``ui_fakes.FakeStudio``'s state, so
tests that flip its ``empty`` flag or its ``ledger`` damage see the rooms follow."""

from __future__ import annotations

import time
from typing import Any

from musicapp.jobs import FunctionJob, Progress


class FakeLibrary:
    """The studio's library room over a FakeStudio (its `empty` flag and songs)."""

    def __init__(self, studio: Any) -> None:
        self._studio = studio

    def is_empty(self) -> bool:
        return self._studio.empty

    def build_demo_job(self) -> FunctionJob:
        studio = self._studio

        def run(progress, cancel) -> int:
            for k in range(5):
                cancel.check()
                time.sleep(studio.step_s)
                progress(Progress((k + 1) / 5, "demo catalogue", f"Added Song {k + 1}"))
            studio.empty = False
            return len(studio.songs)

        return FunctionJob("Build the demo catalogue", run, lane="io")

    def index_audio_job(self) -> FunctionJob | None:
        return None  # the fake catalogue has no audio to index


class FakeRecords:
    """The studio's records room over a FakeStudio (its `ledger` damage)."""

    def __init__(self, studio: Any) -> None:
        self._studio = studio

    @property
    def damage(self) -> Any:
        return self._studio.ledger

    def check_job(self) -> FunctionJob:
        return FunctionJob("Check the ledger", lambda progress, cancel: self._studio.ledger, "io")
