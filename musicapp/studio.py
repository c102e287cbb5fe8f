"""The workflow service: select → verify → generate → compensate, shared by the CLI and the GUI."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musicapp.audio.io import MIN_AUDIO_S
from musicapp.config import Settings
from musicapp.consent import ConsentService
from musicapp.consent.origins import AudioOrigins
from musicapp.consent.your_audio import YourAudio
from musicapp.core import (
    GenerationRequest,
    InvalidInput,
    Level,
    RightsHolder,
    Song,
    TimeRange,
    Use,
    Verification,
    holder_shares,
)
from musicapp.core.provenance import assign_user_share
from musicapp.jobs import (
    CancelToken,
    FunctionJob,
    Progress,
    ProgressCallback,
    no_progress,
    scaled,
)
from musicapp.ledger.kinds import (
    GENERATION,
    VERIFICATION,
    generation_payload,
    verification_payload,
)
from musicapp.material import (
    Parts,
    UserAudio,
    check_request,
    load_materials,
    read_user_audio,
    request_notes,
    resample_note,
    take_rate,
)
from musicapp.rooms.audit import AuditRoom
from musicapp.rooms.exports import ExportsRoom
from musicapp.rooms.history import HistoryRoom
from musicapp.rooms.library import LibraryRoom
from musicapp.rooms.models import ModelsRoom
from musicapp.rooms.records import RecordsRoom
from musicapp.rooms.royalties import RoyaltiesRoom
from musicapp.rooms.selection import SelectionRoom
from musicapp.rooms.sync import SyncRoom
from musicapp.rooms.training import TrainingRoom
from musicapp.takes import (
    Take,
    TakeStore,
    audio_digest,
    take_content,
    take_from_event,
    user_audio_file_sha256,
)

if TYPE_CHECKING:
    from musicapp.catalog.browse import SongRow
    from musicapp.catalog.search import SearchFilters
    from musicapp.catalog.store import CatalogStore, TreeNode
    from musicapp.consent.service import ConsentSource
    from musicapp.export import ExportResult
    from musicapp.export.master import Mastering
    from musicapp.ledger import Ledger
    from musicapp.stems.service import StemsResult
    from musicapp.sync.engine import SyncEngine

log = logging.getLogger(__name__)


PREVIEW_S = 15.0
MIN_TAKE_S = MIN_AUDIO_S  # shorter user audio, or a shorter result, never becomes a take


def preview_start(song: Song) -> float:
    """Where a song's preview starts: a bar line near a quarter of the way in, when the song is
    long enough to fill the preview from there; else as late as still fills it."""
    latest = max(0.0, song.duration_s - PREVIEW_S)
    start = min(song.duration_s * 0.25, latest)
    if song.tempo_bpm and song.beats_per_bar and song.downbeat_s is not None:
        bar = 60.0 / song.tempo_bpm * song.beats_per_bar
        n = max(0, int((start - song.downbeat_s) // bar))
        start = song.downbeat_s + n * bar
    return max(0.0, min(start, latest))


class Refused(Exception):
    """Verification refused at least one reference; nothing was generated."""

    def __init__(self, verification: Verification, event_id: str = "") -> None:
        super().__init__(verification.summary())
        self.verification = verification
        self.event_id = event_id


class Studio:
    """Runs the four steps over one catalogue, one ledger and the engine registry.

    The front ends' only door: what is not a step of the workflow is in a room, one small
    class per job (``musicapp/rooms/``): ``sync`` (the rights server), ``records`` (ledger
    reads and repairs), ``library`` (catalogue counts and songs by id), ``models`` (weights), ``selection``
    (prompts, "more like this", recommendations, alternatives, proposals), ``audit`` (the
    corroborative audit of takes and files), ``training`` (the composer's training).
    """

    def __init__(
        self,
        settings: Settings,
        catalog: CatalogStore,
        ledger: Ledger,
        sync: SyncEngine | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.ledger = ledger
        self._own_sync = sync is None
        if sync is None:
            # A studio made without an AppContext (tests, scripts) opens its own sync state;
            # the app's context passes the one engine and state it owns.
            from musicapp.sync.engine import SyncEngine
            from musicapp.sync.state import SyncState

            state = SyncState.in_folder(settings.data_dir)
            sync = SyncEngine(settings, catalog, ledger, state=state)
        # With a server set, commercial use fails closed on a stale consent cache (service.py);
        # the consent check reads the very state the sync engine writes.
        self.consent = ConsentService(catalog, settings, sync.state)
        self.sync = SyncRoom(sync, self.consent)
        self.records = RecordsRoom(ledger)
        self.models = ModelsRoom(settings.models_dir)
        self.takes = TakeStore(settings.takes_dir)
        # Catalogue audio brought back as "your audio" keeps its song identity (origins.py).
        catalog_file = Path(settings.catalog_path)
        origins = AudioOrigins(
            catalog_file.with_name(f"{catalog_file.stem}-origins.sqlite"), catalog
        )
        self.your_audio = YourAudio(origins, self.records.find_by_content)
        self.library = LibraryRoom(catalog, ledger, origins, sync)
        self.selection = SelectionRoom(settings, catalog, self.consent, ledger, self.validate)
        self.audit = AuditRoom(settings, catalog, ledger, self.take, self.takes.read)
        self.compensation = RoyaltiesRoom(catalog, ledger, sync.state.receipts.receipt)
        self.training = TrainingRoom(settings, catalog, ledger, self.consent.blocked)
        self.exports = ExportsRoom(settings, catalog, ledger, self.sync, self.takes, self.take)
        self.history = HistoryRoom(ledger, self.takes, catalog)
        if settings.audit_takes:
            self.library.indexers.append(lambda p, c: self.audit.index_job().run(p, c))

    # -- select ---------------------------------------------------------------------------------

    def catalogue_children(
        self,
        path: tuple[str, ...],
        hierarchy: str = "genre",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TreeNode]:
        """One page of a node's children in one of the catalogue's hierarchies."""
        return self.catalog.browse.children(path, hierarchy, offset, limit)

    def song_rows(self, song_ids: list[str], level: Level, use: Use) -> dict[str, SongRow]:
        """What catalogue rows show beside the titles: length, tempo, key, and a consent badge
        for ``level`` and ``use`` (the same mask the "usable for" filter reads)."""
        return self.catalog.browse.song_rows(list(song_ids), level, use)

    def hierarchies(self) -> list[tuple[str, str]]:
        """The ways the browser can arrange the catalogue, as (key, label)."""
        return self.catalog.browse.hierarchies()

    def suggest(
        self, text: str, limit: int = 10, filters: SearchFilters | None = None
    ) -> list[Any]:
        """Completions for what the user is typing: (song_id, title, artist) suggestions."""
        return self.catalog.browse.suggest(text, limit, filters)

    def search(
        self, text: str, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[Song]:
        """Songs matching `text`, best first, narrowed by `filters` (search.SearchFilters)."""
        return self.catalog.browse.search(text, limit, filters)

    def filter_choices(self) -> dict[str, list[str]]:
        """The values the search filters offer: "genre", "era" and "instrument" (families)."""
        return self.catalog.browse.filter_choices()

    def preview(self, song_id: str) -> tuple[np.ndarray, int]:
        """PREVIEW_S seconds of a song's stereo mix, and its sample rate, for listening in the
        browser: from the first downbeat after a quarter of the song (past most intros), or
        the whole song when it is shorter."""
        song = self.catalog.song(song_id)
        if song is None:
            raise InvalidInput(f"song {song_id}: not in the catalogue")
        start = preview_start(song)
        end = min(song.duration_s, start + PREVIEW_S)
        rng = TimeRange(start, end) if end > start else None
        return self.catalog.load_audio(song_id, time_range=rng), song.sample_rate

    def song(self, song_id: str) -> Song | None:
        return self.catalog.song(song_id)

    def song_audio(self, song_id: str) -> np.ndarray:
        """A catalogue song's stereo mix at its own rate, song.sample_rate (waveforms, ranges)."""
        return self.catalog.load_audio(song_id)

    def stems_job(
        self,
        source: str | Path,
        model: str = "htdemucs",
        device: str | None = None,
        segment: float | None = None,
        overlap: float = 0.25,
    ) -> FunctionJob[StemsResult]:
        """The stems of a catalogue song (by id) or an audio file, as a compute-lane job: the
        song's own stems, else Demucs when `model`'s weights are here, else the labelled DSP
        fallback; StemsResult says which and why. Parts separated from catalogue audio keep its
        song identity (they are registered with the audio origins index)."""
        from musicapp.stems.separate import SeparationOptions
        from musicapp.stems.service import stems_for

        options = SeparationOptions(
            model=model, device=device or self.settings.device, segment=segment, overlap=overlap
        )

        def run(progress: ProgressCallback, cancel: CancelToken) -> StemsResult:
            result = stems_for(source, self.settings, self.catalog, options, progress, cancel)
            self.your_audio.register_parts(source, result)
            return result

        return FunctionJob(f"stems of {Path(str(source)).name}", run, lane="compute")

    def engines(self) -> list[tuple[str, str]]:
        from musicapp.generation.registry import engine_labels

        return engine_labels(self.settings)

    def unavailable_engines(self) -> dict[str, str]:
        """Engines that cannot run here, with the reason (e.g. which weights are missing)."""
        from musicapp.generation.registry import unavailable_engines

        return unavailable_engines(self.settings)

    # -- verify ---------------------------------------------------------------------------------

    def validate(self, request: GenerationRequest) -> dict[str, Song]:
        """Check that every reference names a known song and fits inside it, and that the
        engine can make the request; the songs by id. Raises InvalidInput; writes nothing."""
        from musicapp.generation.registry import get_engine

        songs = self.catalog.songs([r.song_id for r in request.references])
        check_request(request, songs, get_engine(request.engine, self.settings), self._parts)
        return songs

    def _parts(self, song_id: str) -> Parts | None:
        """The parts separated before from a song without stems of its own (stems cache)."""
        from musicapp.stems.service import separated_parts

        found = separated_parts(song_id, self.settings, self.catalog)
        return None if found is None else Parts(found.stems, found.sample_rate, found.label)

    def load_user_audio(self, request: GenerationRequest) -> np.ndarray | None:
        """The user's own audio for audio/temporal level: stereo at its own rate, with the
        requested range checked against its length. Unreadable, damaged or too short files,
        and files longer than settings.max_user_audio_s (refused before decoding), raise
        AudioError naming the file."""
        user = self._user_audio(request)
        return None if user is None else user.audio

    def _user_audio(self, request: GenerationRequest) -> UserAudio | None:
        return read_user_audio(request, self.settings.max_user_audio_s, MIN_TAKE_S)

    def consent_sources(self, song_ids: list[str]) -> dict[str, ConsentSource]:
        """Where each song's consent decision comes from (the rights server or this computer),
        for the consent panel to say beside each verdict."""
        return self.consent.sources(list(song_ids))

    def check(self, request: GenerationRequest) -> Verification:
        """The policy's verdict without writing to the ledger (for live previews), including
        the songs found in the user's audio; an unreadable file is left to generate to refuse."""
        from musicapp.audio.io import AudioError

        try:
            request = self.your_audio.with_origins(request, index_first=False)
        except (AudioError, OSError):
            request = replace(request, references=request.picked)
        return self.consent.check(request)

    def verify(self, request: GenerationRequest) -> tuple[Verification, str]:
        """Decide the request and log the decision; returns it with its ledger event id."""
        check = self.consent.check_detailed(request)
        verification = check.verification
        event = self.ledger.append(
            VERIFICATION,
            verification_payload(
                request, verification, check.freshness.to_dict(), user_audio_file_sha256(request)
            ),
        )
        return verification, event.id

    # -- generate -------------------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> Take:
        """Validate, verify, generate and log one take. Raises Refused, InvalidInput, Cancelled.

        The engine conditions on the references the user picked; catalogue audio found in the
        user's own audio is verified and attributed as the reference it is (with_origins), and
        recordings the audit finds there that no reference declares are refused, added or
        overridden as the request says (``audit.declare``; UndeclaredMaterial). The take is
        audited once it is recorded (``audit.audit_new_take``): the last tenth of the progress.
        """
        from musicapp.generation.base import Conditioning
        from musicapp.generation.registry import get_engine

        cancel = cancel or CancelToken()
        # Before any work: a take that cannot be recorded must not be made.
        self.ledger.refuse_if_damaged()
        request = replace(request, references=request.picked)
        songs = self.validate(request)
        user = self._user_audio(request)
        full = self.your_audio.with_origins(request)
        user_sha = user_audio_file_sha256(full)
        declared = self.audit.declare(full, user, user_sha, cancel)
        full = declared.request
        found = [r for r in full.references if not r.picked]
        songs.update(self.catalog.songs(r.song_id for r in found))
        verification, verification_id = self.verify(full)
        if not verification.allowed:
            raise Refused(verification, verification_id)
        if declared.overridden:
            self.audit.log_override(declared, user_sha)
        picked_songs = [songs[r.song_id] for r in request.references]
        rate = take_rate(picked_songs, user)
        materials = load_materials(
            self.catalog, request, songs, rate, scaled(progress, 0.0, 0.15), cancel, self._parts
        )
        conditioning = Conditioning(materials, rate, user.audio if user is not None else None)
        engine = get_engine(request.engine, self.settings)
        if engine.name == "composer":  # the ledger names the model before its first take
            self.training.record_shipped()
        result = engine.generate(request, conditioning, scaled(progress, 0.15, 0.88), cancel)
        cancel.check()
        duration = result.audio.shape[1] / result.sample_rate
        if duration < MIN_TAKE_S:
            raise InvalidInput(
                f"the {engine.label} engine made {duration:.3f} s of audio, shorter than the "
                f"{MIN_TAKE_S:g} s a take needs; nothing was logged"
            )
        n = len(request.references)
        provenance = assign_user_share(
            result.provenance, [(n + i, r.song_id, r.weight) for i, r in enumerate(found)]
        )
        notes = (
            resample_note(picked_songs, rate, user)
            + request_notes(request, songs, self._parts)
            + self.your_audio.notes(full)
            + declared.notes
        )
        provenance = replace(provenance, notes=provenance.notes + notes)
        staged = self.takes.write_staged(result.audio, result.sample_rate)
        try:
            event = self.ledger.append(
                GENERATION,
                generation_payload(
                    request=full,
                    user_audio_file_sha256=user_sha,
                    verification_event_id=verification_id,
                    provenance=provenance,
                    royalties=holder_shares(provenance, songs),
                    sample_rate=result.sample_rate,
                    duration_s=duration,
                    user_audio_memory_digest=audio_digest(user.audio) if user is not None else None,
                    take_content=take_content(staged),
                ),
            )
            path = self.takes.publish(staged, event.id)
            self.takes.remember_user_audio(event.id, full.user_audio)
        finally:
            staged.unlink(missing_ok=True)
        take = Take(
            royalties=dict(event.payload["royalties"]),
            id=event.id,
            request=full,
            provenance=provenance,
            verification=verification,
            audio_path=path,
            sample_rate=result.sample_rate,
            duration_s=duration,
            created_at=event.ts,
            verification_event_id=verification_id,
        )
        take = self.audit.audit_new_take(
            take, result.audio, result.sample_rate, scaled(progress, 0.9, 1.0), cancel
        )
        progress(Progress(1.0, "done", "Take ready"))
        return take

    def generate_job(self, request: GenerationRequest) -> FunctionJob[Take]:
        return FunctionJob(
            "Generate", lambda progress, cancel: self.generate(request, progress, cancel)
        )

    def take(self, take_id: str) -> Take:
        """A take by id (or "last" for the newest still kept); InvalidInput when unknown or
        deleted (Take history)."""
        if take_id == "last":
            kept = self.history.entries(limit=1)
            if not kept:
                raise InvalidInput("no take yet: make one with `musicapp generate`")
            take_id = kept[0].id
        self.history.check_kept(take_id)
        event = self.ledger.get(take_id)
        assert event is not None  # check_kept
        return take_from_event(
            event.id, event.ts, event.payload, self.takes, self.audit.of_take(event.id)
        )

    def take_audio(self, take: Take) -> np.ndarray:
        audio, _ = self.takes.read(take.id)
        return audio

    # -- compensate -----------------------------------------------------------------------------

    def royalties(self, take: Take) -> list[tuple[RightsHolder, float]]:
        """Each rights holder's share of the take's royalties, largest first, as logged."""
        from musicapp.credits import royalties

        return royalties(take, self.catalog)

    def attribution(self, take: Take) -> dict[str, Any]:
        """The attribution record that travels inside exported files."""
        return self.exports.attribution(take)

    def export(
        self,
        take: Take,
        out_path: Path,
        bits: int = 24,
        bitrate: int | None = None,
        mastering: Mastering | None = None,
    ) -> ExportResult:
        """Write the take as WAV or FLAC, ``bits``-bit (24 or 16), or as MP3 (``bitrate``
        kbit/s), with its attribution inside, as made or ``mastering``; logged before it
        appears (``rooms/exports.py``, which also writes a take's stems and re-exports:
        ``studio.exports.reexport``)."""
        return self.exports.export(take, out_path, bits, bitrate, mastering)

    def close(self) -> None:
        """Close what the studio itself opened (the audio origins index, and the sync state
        when no context gave it one)."""
        self.your_audio.origins.close()
        self.selection.close()
        self.audit.close()
        if self._own_sync:
            self.sync.state.close()
