"""Fakes of the studio's rooms (``musicapp/rooms/``) over a ``ui_fakes.FakeStudio``'s state, so
tests that flip its ``empty`` flag or its ``ledger`` damage see the rooms follow."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.attribution.compare import compare
from musicapp.catalog.import_report import ImportReport
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback
from musicapp.ledger import Damage
from musicapp.studio_types import AuditResult, AuditStatus, Comparison, Finding

if TYPE_CHECKING:
    from ui_fakes import FakeStudio

    from musicapp.takes import Take
    from musicapp.ui.services import AuditPort, LibraryPort, RecordsPort


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


FAKE_EMBEDDER = "embedded audio features (fake)"


def agreeing_audit(take: Take) -> AuditResult:
    """An audit that finds exactly the take's by-design shares, every song outright."""
    shares = take.provenance.song_shares()
    findings = tuple(
        Finding(sid, 0.0, take.duration_s, 0.0, take.duration_s, 0.97) for sid in shares
    )
    return AuditResult(
        take.duration_s, take.sample_rate, (), shares, findings, embedder=FAKE_EMBEDDER
    )


class FakeAudit:
    """The studio's audit room over a FakeStudio: `planned` (if set) is what every audit finds,
    else a take's audit agrees with its by-design shares; `auto` audits each take as it is made
    (as the real studio does after every generation); `material` is what `find_material` and the
    undeclared check find in the user's audio. `take_calls` and `file_calls` record the jobs."""

    def __init__(self, studio: FakeStudio) -> None:
        self._studio = studio
        self.auto = True
        self.planned: AuditResult | None = None
        self.material: tuple[Finding, ...] = ()
        self.results: dict[str, AuditResult] = {}
        self.takes: dict[str, Take] = {}
        self.take_calls: list[str] = []
        self.file_calls: list[Path] = []

    def audit_of(self, take: Take) -> AuditResult:
        return self.planned if self.planned is not None else agreeing_audit(take)

    def took(self, take: Take) -> None:
        """The studio made `take`: remember it, and audit it when `auto`."""
        self.takes[take.id] = take
        if self.auto:
            self.results[take.id] = self.audit_of(take)

    def status(self) -> AuditStatus:
        n = len(self._studio.songs)
        return AuditStatus(n, n, FAKE_EMBEDDER, "landmark hashes (fake)")

    def index_job(self) -> FunctionJob[int]:
        return FunctionJob("Index the catalogue for audits", lambda _p, _c: 0, lane="io")

    def _steps(self, progress: ProgressCallback, cancel: CancelToken, what: str) -> None:
        for k in range(5):
            cancel.check()
            time.sleep(self._studio.step_s)
            progress(Progress((k + 1) / 5, "audit", f"{what}: segment {k + 1} of 5"))

    def audit_file_job(self, path: Path) -> FunctionJob[AuditResult]:
        self.file_calls.append(Path(path))

        def run(progress: ProgressCallback, cancel: CancelToken) -> AuditResult:
            self._steps(progress, cancel, "Auditing")
            if self.planned is not None:
                return self.planned
            return AuditResult(10.0, 8000, (), {"s1": 0.6}, self.material, embedder=FAKE_EMBEDDER)

        return FunctionJob(f"Audit {Path(path).name}", run)

    def audit_take_job(self, take_id: str) -> FunctionJob[AuditResult]:
        self.take_calls.append(take_id)

        def run(progress: ProgressCallback, cancel: CancelToken) -> AuditResult:
            self._steps(progress, cancel, "Auditing the take")
            result = self.audit_of(self.takes[take_id])
            self.results[take_id] = result
            return result

        return FunctionJob("Audit the take", run)

    def of_take(self, take_id: str) -> AuditResult | None:
        return self.results.get(take_id)

    def comparison(self, take: Take) -> Comparison | None:
        result = self.results.get(take.id)
        return None if result is None else compare(result, take.provenance.song_shares())

    def find_material(self, path: Path) -> tuple[Finding, ...]:
        return self.material


if TYPE_CHECKING:

    def _audit_fits(room: FakeAudit) -> AuditPort:
        return room

    def _library_fits(room: FakeLibrary) -> LibraryPort:
        return room

    def _records_fits(room: FakeRecords) -> RecordsPort:
        return room
