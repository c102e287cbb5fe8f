"""The studio's door to the catalogue as a library: what it holds, and bringing music into it
(the demo build, imports, and indexing its audio so it is recognised when it comes back).

The browser's reads (search, hierarchy pages, previews) stay on ``Studio``: they are the
workflow's "select" step. Rights an import gives or changes go to the ledger before they take
effect (``catalog/importer.py``'s ``record`` hook).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.jobs import CancelToken, FunctionJob, ProgressCallback, no_progress, scaled
from musicapp.ledger.kinds import CATALOG_RIGHTS, catalog_rights_payload

if TYPE_CHECKING:
    from musicapp.catalog.import_report import ImportReport
    from musicapp.catalog.store import CatalogStore
    from musicapp.consent.origins import AudioOrigins
    from musicapp.core import Song, Use
    from musicapp.ledger import Ledger
    from musicapp.sync.claims import Claim, Claims
    from musicapp.sync.engine import SyncEngine


class LibraryRoom:
    """The catalogue's contents, and the jobs that add to it."""

    def __init__(
        self,
        catalog: CatalogStore,
        ledger: Ledger,
        origins: AudioOrigins,
        sync: SyncEngine | None = None,
    ) -> None:
        self._catalog = catalog
        self._ledger = ledger
        self._origins = origins
        self._sync = sync  # where the user's own songs are claimed (sync/claims.py)
        # Indexes the demo build brings up to date after its songs and their audio index (the
        # studio adds the audit's), so the first take does not wait for them.
        self.indexers: list[Callable[[ProgressCallback, CancelToken], object]] = []

    def count(self) -> int:
        """How many songs the catalogue holds."""
        return self._catalog.count()

    def is_empty(self) -> bool:
        return self._catalog.is_empty()

    def songs(self, song_ids: Iterable[str]) -> dict[str, Song]:
        """The catalogue's songs by id (ids it does not hold are left out)."""
        return self._catalog.songs(list(song_ids))

    @staticmethod
    def demo_song_ids() -> tuple[str, ...]:
        """Demo songs whose consent allows every use (what `musicapp demo --headless` picks)."""
        from musicapp.catalog.demo import PERMITTED_SONG_IDS

        return tuple(PERMITTED_SONG_IDS)

    def build_demo_job(self, limit: int | None = None) -> FunctionJob[int]:
        """Render the demo catalogue, then index its audio (and run ``indexers``: the audit's
        index), as an io-lane job."""
        from musicapp.catalog.demo import build_demo

        def run(progress: ProgressCallback, cancel: CancelToken) -> int:
            # Until the build finishes, a marker says it was asked for: a build cut short (the
            # app closed, the machine slept) is resumed at the next start (demo_unfinished).
            marker = self._demo_marker()
            marker.write_text(json.dumps({"limit": limit}), encoding="utf-8")
            built = build_demo(self._catalog, scaled(progress, 0.0, 0.6), cancel, limit=limit)
            marker.unlink(missing_ok=True)
            self.index_audio(scaled(progress, 0.6, 0.75), cancel)
            for i, index in enumerate(self.indexers):
                share = 0.25 / len(self.indexers)
                index(scaled(progress, 0.75 + i * share, 0.75 + (i + 1) * share), cancel)
            return built

        return FunctionJob("Build the demo catalogue", run, lane="io")

    def _demo_marker(self) -> Path:
        return self._catalog.path.with_name(f"{self._catalog.path.stem}-demo-build.json")

    def demo_unfinished(self) -> tuple[int, int] | None:
        """(demo songs in the catalogue, songs the build was to make) when a demo build was
        started and did not finish; None otherwise."""
        from musicapp.catalog.recipe import load_recipe

        marker = self._demo_marker()
        if not marker.exists():
            return None
        try:
            limit = json.loads(marker.read_text("utf-8")).get("limit")
        except (OSError, ValueError, AttributeError):
            limit = None
        specs = load_recipe().songs
        wanted = specs if not isinstance(limit, int) else specs[:limit]
        have = len(self._catalog.songs([s.id for s in wanted]))
        return have, len(wanted)

    def resume_demo_job(self) -> FunctionJob[int] | None:
        """The unfinished demo build, to finish it (only the missing songs are rendered)."""
        unfinished = self.demo_unfinished()
        if unfinished is None:
            return None
        try:
            limit = json.loads(self._demo_marker().read_text("utf-8")).get("limit")
        except (OSError, ValueError, AttributeError):
            limit = None
        return self.build_demo_job(limit if isinstance(limit, int) else None)

    def index_audio(
        self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> int:
        """Index the catalogue audio not indexed yet, so that it is recognised when it comes
        back as your audio (consent/origins.py); returns how many songs were."""
        return self._origins.index_pending(progress, cancel)

    def index_audio_job(self) -> FunctionJob[int] | None:
        """`index_audio` as an io-lane job, or None when every song is indexed."""
        if not self._origins.pending():
            return None
        return FunctionJob("Index catalogue audio", self.index_audio, lane="io")

    def import_library(
        self,
        path: Path,
        manifest: Path | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ImportReport:
        """Import audio files and/or a manifest into the catalogue; the rights a manifest gives
        or changes are appended to the ledger (catalog_rights) before they take effect."""
        from musicapp.catalog.importer import import_library

        report = import_library(
            self._catalog,
            path,
            manifest,
            scaled(progress, 0.0, 0.9),
            cancel,
            record=self._record_catalog_event,
        )
        self.index_audio(scaled(progress, 0.9, 1.0), cancel)
        return report

    def import_job(self, path: Path, manifest: Path | None = None) -> FunctionJob[ImportReport]:
        """`import_library` as a job on the io lane (progress per song, cancel between songs)."""
        return FunctionJob(
            "import_library",
            lambda progress, cancel: self.import_library(path, manifest, progress, cancel),
            lane="io",
        )

    # -- the user's own music ---------------------------------------------------------------

    def unclaimed(self) -> list[Song]:
        """Songs nobody holds (imported without a manifest): every use of them is refused
        until someone is their holder (``declare_own_rights``)."""
        from musicapp.catalog.own_rights import unclaimed

        return unclaimed(self._catalog)

    def declare_own_rights(
        self, song_ids: list[str], name: str, kind: str = "composer", uses: Iterable[Use] = ()
    ) -> list[str]:
        """Make the user the holder of their own songs (the rights wizard): logged as
        ``catalog_rights`` events before they take effect; their ids."""
        from musicapp.catalog.own_rights import Declaration, declare
        from musicapp.core import Permission, Use

        self._ledger.refuse_if_damaged()
        declaration = Declaration(name.strip(), kind, frozenset({Use.PRIVATE, *uses}))
        events = declare(self._catalog, list(song_ids), declaration, self._record_catalog_event)
        if self.claims_server():  # and claimed on the rights server, for its admin to confirm
            holder = declaration.holder().id
            levels, claimed = [p.value for p in Permission], [u.value for u in declaration.uses]
            for song in self._catalog.songs(song_ids).values():
                self._claims().queue(song, holder, levels, claimed)
        return events

    def claims_server(self) -> str:
        """The rights server the user's own songs are claimed on ("" when none is set)."""
        return self._sync.server_url if self._sync is not None else ""

    def claims(self) -> list[Claim]:
        """The user's songs claimed on a rights server, and how each claim stands there."""
        return self._claims().all() if self._sync is not None else []

    def _claims(self) -> Claims:
        assert self._sync is not None
        return self._sync.state.claims

    def _record_catalog_event(self, kind: str, payload: dict[str, Any]) -> str:
        if kind == CATALOG_RIGHTS:  # the import's folders stay on this machine
            return self._ledger.append(kind, catalog_rights_payload(payload)).id
        return self._ledger.append(kind, payload).id
