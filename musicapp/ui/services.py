"""The UI's port: what the views call on the studio and its rooms, as Protocols.

The views are written against these slices, not against ``Studio``: the real studio satisfies
``StudioPort`` and so does the tests' ``FakeStudio``; mypy checks both (``tests/ui/ui_fakes.py``
is in CI's mypy line; this module imports neither, as the studio pulls in the non-strict package),
so the fake cannot drift from the surface the window relies on. Every type is the real one, imported for type checking only, so
the UI still reaches the working packages only through the studio
(``tests/unit/test_import_boundaries.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from musicapp.catalog.browse import TreeNode
    from musicapp.catalog.import_report import ImportReport
    from musicapp.catalog.search import SearchFilters, Suggestion
    from musicapp.config import Settings
    from musicapp.core import GenerationRequest, Level, RightsHolder, Song, Use, Verification
    from musicapp.export import ExportResult, FileReport
    from musicapp.export.links import Credit, Link
    from musicapp.jobs import CancelToken, Job, ProgressCallback
    from musicapp.ledger import Damage
    from musicapp.rooms.exports import ExportBatch, ExportPlan
    from musicapp.rooms.history import TakeEntry
    from musicapp.rooms.royalties import HolderPay
    from musicapp.royalties.period import Policy
    from musicapp.royalties.simulate import MechanismFigures
    from musicapp.royalties.take_price import TakePrices
    from musicapp.selection.types import Alternatives, Proposal, Ranking
    from musicapp.stems.service import StemsResult
    from musicapp.studio_types import (
        AuditResult,
        AuditStatus,
        Comparison,
        ConsentSource,
        Finding,
        SongRow,
    )
    from musicapp.sync.claims import Claim
    from musicapp.sync.engine import SyncResult, SyncStatus
    from musicapp.sync.probe import Probe
    from musicapp.sync.state import SyncState
    from musicapp.takes import Take

Audio = npt.NDArray[np.float32]


# -- the studio's workflow steps, per view -------------------------------------------------------


class PreviewPort(Protocol):
    """What the preview player reads: a song's preview and its name."""

    def preview(self, song_id: str) -> tuple[npt.NDArray[Any], int]: ...
    def song(self, song_id: str) -> Song | None: ...


class CataloguePagesPort(Protocol):
    """What the catalogue tree model reads: one page of a node's children."""

    def catalogue_children(
        self,
        path: tuple[str, ...],
        hierarchy: str = "genre",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TreeNode]: ...
    def song_rows(self, song_ids: list[str], level: Level, use: Use) -> dict[str, SongRow]: ...


class CataloguePort(CataloguePagesPort, PreviewPort, Protocol):
    """The browser: hierarchies, search, completions, filters and previews (the "select" step)."""

    def hierarchies(self) -> list[tuple[str, str]]: ...
    def search(
        self, text: str, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[Song]: ...
    def suggest(
        self, text: str, limit: int = 10, filters: SearchFilters | None = None
    ) -> list[Suggestion]: ...
    def filter_choices(self) -> dict[str, list[str]]: ...


class AuditPort(Protocol):
    """``studio.audit``: who is really in a take or a file, found from the audio alone, beside
    the attribution by design (the result panel, File → Audit a file…)."""

    def status(self) -> AuditStatus: ...
    def index_job(self) -> Job[int]: ...
    def audit_file_job(self, path: Path) -> Job[AuditResult]: ...
    def audit_take_job(self, take_id: str) -> Job[AuditResult]: ...
    def of_take(self, take_id: str) -> AuditResult | None: ...
    def comparison(self, take: Take) -> Comparison | None: ...
    def find_material(self, path: Path) -> tuple[Finding, ...]: ...


class ExportsPort(Protocol):
    """The Export dialog and its job (``rooms/exports.py``)."""

    def names(self, take: Take, plan: ExportPlan) -> list[Path]: ...
    def export_plan(
        self, take: Take, plan: ExportPlan, progress: ProgressCallback, cancel: CancelToken
    ) -> ExportBatch: ...


class HistoryPort(Protocol):
    """Take history (``rooms/history.py``)."""

    def entries(self, limit: int = 500) -> list[TakeEntry]: ...
    def rename(self, take_id: str, name: str) -> str: ...
    def delete(self, take_id: str) -> str: ...
    def matched_gains(self, take_ids: list[str]) -> dict[str, float]: ...


class HistoryViewPort(Protocol):
    """The Take history dock: the list, and a take and its audio by id."""

    @property
    def history(self) -> HistoryPort: ...
    def take(self, take_id: str) -> Take: ...
    def take_audio(self, take: Take) -> Audio: ...


class TakePort(Protocol):
    """The result panel: a take's audio, its royalties, its audit, and exporting it."""

    @property
    def audit(self) -> AuditPort: ...
    @property
    def exports(self) -> ExportsPort: ...
    @property
    def compensation(self) -> RoyaltiesPort: ...
    def song(self, song_id: str) -> Song | None: ...
    def take_audio(self, take: Take) -> Audio: ...
    def royalties(self, take: Take) -> list[tuple[RightsHolder, float]]: ...
    def export(self, take: Take, out_path: Path) -> ExportResult: ...


class StemsPort(Protocol):
    """The Stems view: separating a catalogue song (by id) or an audio file."""

    def stems_job(
        self,
        source: str | Path,
        model: str = "htdemucs",
        device: str | None = None,
        segment: float | None = None,
        overlap: float = 0.25,
    ) -> Job[StemsResult]: ...


class GenerationPort(Protocol):
    """Checking and making a take (the "verify" and "generate" steps)."""

    def song(self, song_id: str) -> Song | None: ...
    def song_audio(self, song_id: str) -> Audio: ...
    def engines(self) -> list[tuple[str, str]]: ...
    def unavailable_engines(self) -> dict[str, str]: ...
    def validate(self, request: GenerationRequest) -> dict[str, Song]: ...
    def check(self, request: GenerationRequest) -> Verification: ...
    def consent_sources(self, song_ids: list[str]) -> dict[str, ConsentSource]: ...
    def load_user_audio(self, request: GenerationRequest) -> Audio | None: ...
    def generate_job(self, request: GenerationRequest) -> Job[Take]: ...


class TonePort(GenerationPort, TakePort, StemsPort, Protocol):
    """The audio panel (tone match): generation, takes and stems together."""


# -- the studio's rooms (musicapp/rooms/) ---------------------------------------------------------


class LibraryPort(Protocol):
    """``studio.library``: whether there is a catalogue, and the jobs that fill it."""

    def is_empty(self) -> bool: ...
    def build_demo_job(self) -> Job[int]: ...
    def index_audio_job(self) -> Job[int] | None: ...
    def import_job(self, path: Path, manifest: Path | None = None) -> Job[ImportReport]: ...
    def demo_unfinished(self) -> tuple[int, int] | None: ...
    def resume_demo_job(self) -> Job[int] | None: ...
    def unclaimed(self) -> list[Song]: ...
    def declare_own_rights(
        self, song_ids: list[str], name: str, kind: str = ..., uses: Iterable[Use] = ...
    ) -> list[str]: ...
    def claims_server(self) -> str: ...
    def claims(self) -> list[Claim]: ...


class VerifyPort(Protocol):
    """What the Verify window calls on ``studio.records``: check a file (off the GUI thread:
    it reads and hashes the whole file) and read the report as the chain and its references."""

    def verify_file(
        self, path: Path, *, offline: bool = False, ca: Path | None = None
    ) -> FileReport: ...
    def links(self, report: FileReport) -> list[Link]: ...
    def credits(self, report: FileReport) -> list[Credit]: ...


class RecordsPort(VerifyPort, Protocol):
    """``studio.records``: the ledger damage the banner shows, looking again, and checking a
    file (the Verify window)."""

    @property
    def damage(self) -> Damage | None: ...
    def check_job(self) -> Job[Damage | None]: ...


class SyncPort(Protocol):
    """``studio.sync``: the status line, Sync now, start over and the saved choices."""

    @property
    def state(self) -> SyncState: ...
    def status(self) -> SyncStatus: ...
    def sync_job(self) -> Job[SyncResult]: ...
    def start_over_job(self) -> Job[Path]: ...
    def probe(self, url: str) -> Probe: ...


class SelectionPort(Protocol):
    """``studio.selection``: prompts, "more like this", recommendations, alternatives for
    refused references and proposals for parameters left open (the prompt, Similar, consent
    and proposal panes; every call runs off the GUI thread)."""

    def catch_up_job(self) -> Job[int]: ...
    def prompt(
        self,
        text: str,
        *,
        categories: Sequence[str] = (),
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking: ...
    def similar(
        self,
        song_id: str,
        *,
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking: ...
    def recommend(
        self,
        session: Sequence[str],
        *,
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking: ...
    def alternatives(self, verification: Verification, *, k: int = 5) -> list[Alternatives]: ...
    def propose(self, request: GenerationRequest) -> list[Proposal]: ...
    def facets(self) -> dict[str, list[tuple[str, int]]]: ...
    def like(self, song_id: str, liked: bool = True) -> None: ...
    def likes(self) -> list[str]: ...


class RoyaltiesPort(Protocol):
    """``studio.compensation``: what a take (or the request being built) pays whom per 100 EUR,
    the period's statement from the local ledger, and the inequality simulator (the Royalties
    view; the simulator runs off the GUI thread)."""

    def preview_request(self, request: GenerationRequest, policy: Policy) -> list[HolderPay]: ...
    def preview_take(self, take: Take, policy: Policy) -> list[HolderPay]: ...
    def take_prices(self, take: Take) -> TakePrices: ...
    def statement(
        self, start: datetime, end: datetime, policy: Policy, holder_id: str | None = None
    ) -> dict[str, Any]: ...
    def simulate(
        self,
        n_events: int = 200_000,
        n_songs: int = 20_000,
        n_holders: int = 2_000,
        *,
        zipf: float = 1.0,
        pool_cents: int = 10_000_000,
        minimum_cents: int = 1000,
        seed: int = 0,
    ) -> list[MechanismFigures]: ...


class StudioPort(CataloguePort, TonePort, HistoryViewPort, Protocol):
    """Everything the window and its views call on the studio, rooms included."""

    @property
    def selection(self) -> SelectionPort: ...

    @property
    def library(self) -> LibraryPort: ...
    @property
    def records(self) -> RecordsPort: ...
    @property
    def sync(self) -> SyncPort | None:
        """None: sync is unavailable (the window says so and offers no Sync now)."""


class AppPort(Protocol):
    """What ``MainWindow`` needs of the app context (``musicapp/context.py``)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def studio(self) -> StudioPort: ...


__all__ = [
    "AppPort",
    "AuditPort",
    "CataloguePagesPort",
    "CataloguePort",
    "GenerationPort",
    "LibraryPort",
    "PreviewPort",
    "RecordsPort",
    "RoyaltiesPort",
    "SelectionPort",
    "StemsPort",
    "StudioPort",
    "SyncPort",
    "TakePort",
    "TonePort",
    "VerifyPort",
]
