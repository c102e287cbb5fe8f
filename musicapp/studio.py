"""The workflow service: select → verify → generate → compensate, shared by the CLI and the GUI."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musicapp.config import SAMPLE_RATE, Settings
from musicapp.consent import ConsentService
from musicapp.core import (
    GenerationRequest,
    InvalidInput,
    Level,
    RightsHolder,
    Song,
    TimeRange,
    Verification,
    holder_shares,
)
from musicapp.core.codec import reference_to_dict, request_to_dict, verification_to_dict
from musicapp.jobs import (
    CancelToken,
    FunctionJob,
    Progress,
    ProgressCallback,
    no_progress,
    scaled,
)
from musicapp.takes import Take, TakeStore, audio_digest, take_from_event

if TYPE_CHECKING:
    from musicapp.catalog.search import SearchFilters
    from musicapp.catalog.store import CatalogStore, TreeNode
    from musicapp.export import ExportResult, FileReport
    from musicapp.generation.base import Conditioning
    from musicapp.ledger import Damage, Ledger
    from musicapp.stems.service import StemsResult

log = logging.getLogger(__name__)


PREVIEW_S = 15.0


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


def _downbeat_in_cut(song: Song, time_range: TimeRange | None) -> float | None:
    """The first bar start inside the cut audio, from the score's meter; None if unknown."""
    if not song.tempo_bpm:
        return None
    if time_range is None:
        return song.downbeat_s
    bar_s = song.beats_per_bar * 60.0 / song.tempo_bpm
    return (song.downbeat_s - time_range.start_s) % bar_s


class Refused(Exception):
    """Verification refused at least one reference; nothing was generated."""

    def __init__(self, verification: Verification, event_id: str = "") -> None:
        super().__init__(verification.summary())
        self.verification = verification
        self.event_id = event_id


class Studio:
    """Runs the four steps over one catalogue, one ledger and the engine registry."""

    def __init__(self, settings: Settings, catalog: CatalogStore, ledger: Ledger) -> None:
        self.settings = settings
        self.catalog = catalog
        self.ledger = ledger
        # With a server set, commercial use fails closed on a stale consent cache (service.py).
        self.consent = ConsentService(catalog, settings)
        self.takes = TakeStore(settings.takes_dir)

    # -- select ---------------------------------------------------------------------------------

    def catalogue_children(
        self,
        path: tuple[str, ...],
        hierarchy: str = "genre",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TreeNode]:
        """One page of a node's children in one of the catalogue's hierarchies."""
        return self.catalog.children(path, hierarchy, offset, limit)

    def hierarchies(self) -> list[tuple[str, str]]:
        """The ways the browser can arrange the catalogue, as (key, label)."""
        return self.catalog.hierarchies()

    def suggest(
        self, text: str, limit: int = 10, filters: SearchFilters | None = None
    ) -> list[Any]:
        """Completions for what the user is typing: (song_id, title, artist) suggestions."""
        return self.catalog.suggest(text, limit, filters)

    def search(
        self, text: str, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[Song]:
        """Songs matching `text`, best first, narrowed by `filters` (search.SearchFilters)."""
        return self.catalog.search(text, limit, filters)

    def filter_choices(self) -> dict[str, list[str]]:
        """The values the search filters offer: "genre", "era" and "instrument" (families)."""
        return self.catalog.filter_choices()

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
        return self.catalog.load_audio(song_id, time_range=rng), SAMPLE_RATE

    def song(self, song_id: str) -> Song | None:
        return self.catalog.song(song_id)

    def catalogue_is_empty(self) -> bool:
        return self.catalog.is_empty()

    def build_demo_job(self, limit: int | None = None) -> FunctionJob[int]:
        from musicapp.catalog.demo import build_demo

        return FunctionJob(
            "Build the demo catalogue",
            lambda progress, cancel: build_demo(self.catalog, progress, cancel, limit=limit),
            lane="io",
        )

    def song_audio(self, song_id: str) -> np.ndarray:
        """A catalogue song's stereo mix at the working rate (waveforms, previews, ranges)."""
        return self.catalog.load_audio(song_id)

    def stems_job(
        self, source: str | Path, model: str = "htdemucs", device: str | None = None
    ) -> FunctionJob[StemsResult]:
        """The stems of a catalogue song (by id) or an audio file, as a compute-lane job: the
        song's own stems, else Demucs when `model`'s weights are here, else the labelled DSP
        fallback; StemsResult says which and why."""
        from musicapp.stems.separate import SeparationOptions
        from musicapp.stems.service import stems_job

        options = SeparationOptions(model=model, device=device or self.settings.device)
        return stems_job(source, self.settings, self.catalog, options)

    def engines(self) -> list[tuple[str, str]]:
        from musicapp.generation.registry import engine_labels

        return engine_labels(self.settings)

    def unavailable_engines(self) -> dict[str, str]:
        """Engines that cannot run here, with the reason (e.g. which weights are missing)."""
        from musicapp.generation.registry import unavailable_engines

        return unavailable_engines(self.settings)

    # -- verify ---------------------------------------------------------------------------------

    def validate(self, request: GenerationRequest) -> dict[str, Song]:
        """Check that every reference names a known song and fits inside it."""
        from musicapp.generation.registry import get_engine

        songs = self.catalog.songs([r.song_id for r in request.references])
        for ref in request.references:
            song = songs.get(ref.song_id)
            if song is None:
                raise InvalidInput(f"unknown song id {ref.song_id!r} (try `musicapp search`)")
            if ref.time_range is not None:
                ref.time_range.check_within(song.duration_s, f"song {ref.song_id}")
        engine = get_engine(request.engine, self.settings)
        needs_user_audio = [
            r for r in request.references if r.level in (Level.AUDIO, Level.TEMPORAL)
        ]
        if needs_user_audio and not request.user_audio:
            raise InvalidInput(
                f"reference {needs_user_audio[0].song_id}: {needs_user_audio[0].level.value}-level "
                "references shape your own audio: give an audio file (--user-audio)"
            )
        if request.user_range is not None and not request.user_audio:
            raise InvalidInput("a range of your audio was given, but no audio file (--user-audio)")
        check_request = getattr(engine, "check_request", None)
        if check_request is not None:
            check_request(request)
        for ref in request.references:
            if ref.level not in engine.levels:
                levels = ", ".join(sorted(level.value for level in engine.levels))
                raise InvalidInput(
                    f"reference {ref.song_id}: the {engine.label} engine does not do "
                    f"{ref.level.value}-level references (it does: {levels})"
                )
        return songs

    def load_user_audio(self, request: GenerationRequest) -> np.ndarray | None:
        """The user's own audio for audio/temporal level: stereo at the working rate, with the
        requested range checked against its length. Unreadable files, and files longer than
        settings.max_user_audio_s (refused before decoding), raise AudioError."""
        if not request.user_audio:
            return None
        from musicapp.audio.io import read_audio, resample, to_channels

        audio, sr = read_audio(request.user_audio, self.settings.max_user_audio_s)
        audio = to_channels(resample(audio, sr, self.settings.sample_rate), 2)
        if request.user_range is not None:
            request.user_range.check_within(
                audio.shape[1] / self.settings.sample_rate, f"your audio {request.user_audio}"
            )
        return audio

    def check(self, request: GenerationRequest) -> Verification:
        """The policy's verdict without writing to the ledger (for live previews)."""
        return self.consent.check(request)

    def verify(self, request: GenerationRequest) -> tuple[Verification, str]:
        """Decide the request and log the decision; returns it with its ledger event id."""
        check = self.consent.check_detailed(request)
        verification = check.verification
        event = self.ledger.append(
            "verification",
            {
                "request": request_to_dict(request),
                **verification_to_dict(verification),
                # the consent cache the decision relied on: its age, the TTL, the server
                "consent_cache": check.freshness.to_dict(),
            },
        )
        return verification, event.id

    # -- generate -------------------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> Take:
        """Validate, verify, generate and log one take. Raises Refused, InvalidInput, Cancelled."""
        from musicapp.generation.registry import get_engine

        cancel = cancel or CancelToken()
        # Before any work: a take that cannot be recorded must not be made.
        self.ledger.refuse_if_damaged()
        songs = self.validate(request)
        user_audio = self.load_user_audio(request)
        verification, verification_id = self.verify(request)
        if not verification.allowed:
            raise Refused(verification, verification_id)
        progress_load = scaled(progress, 0.0, 0.15)
        conditioning = self._conditioning(request, songs, progress_load, cancel)
        conditioning = replace(conditioning, user_audio=user_audio)
        engine = get_engine(request.engine, self.settings)
        result = engine.generate(request, conditioning, scaled(progress, 0.15, 0.95), cancel)
        cancel.check()
        staged = self.takes.write_staged(result.audio, result.sample_rate)
        try:
            duration = result.audio.shape[1] / result.sample_rate
            event = self.ledger.append(
                "generation",
                {
                    "request": request_to_dict(request),
                    "verification_event_id": verification_id,
                    "provenance": result.provenance.to_dict(),
                    "royalties": {
                        h: round(s, 9) for h, s in holder_shares(result.provenance, songs).items()
                    },
                    "sample_rate": result.sample_rate,
                    "duration_s": duration,
                    "audio_sha256": audio_digest(result.audio),
                    # What the user brought, so the record shows what was reshaped.
                    "user_audio_sha256": audio_digest(user_audio)
                    if user_audio is not None
                    else None,
                },
            )
            path = self.takes.publish(staged, event.id)
        finally:
            staged.unlink(missing_ok=True)
        progress(Progress(1.0, "done", "Take ready"))
        return Take(
            id=event.id,
            request=request,
            provenance=result.provenance,
            verification=verification,
            audio_path=path,
            sample_rate=result.sample_rate,
            duration_s=duration,
            created_at=event.ts,
            verification_event_id=verification_id,
        )

    def generate_job(self, request: GenerationRequest) -> FunctionJob[Take]:
        return FunctionJob(
            "Generate", lambda progress, cancel: self.generate(request, progress, cancel)
        )

    def _conditioning(
        self,
        request: GenerationRequest,
        songs: dict[str, Song],
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> Conditioning:
        from musicapp.generation.base import Conditioning, Material

        materials = []
        n = len(request.references)
        # With any parameter-level reference, song-level ones need their stems too: the engine
        # then plays "the rest of song A" without A's own melody under "melody from B".
        with_stems = any(r.level is Level.PARAMETER for r in request.references)
        for i, ref in enumerate(request.references):
            cancel.check()
            song = songs[ref.song_id]
            mix = self.catalog.load_audio(ref.song_id, time_range=ref.time_range)
            stems = {}
            if with_stems:
                stems = {
                    stem.name: self.catalog.load_audio(
                        ref.song_id, stem=stem.name, time_range=ref.time_range
                    )
                    for stem in song.stems
                }
            materials.append(
                Material(
                    index=i,
                    reference=ref,
                    song=song,
                    sample_rate=self.settings.sample_rate,
                    mix=mix,
                    stems=stems,
                    tempo_bpm=song.tempo_bpm,
                    beats_per_bar=song.beats_per_bar,
                    downbeat_s=_downbeat_in_cut(song, ref.time_range),
                )
            )
            progress(Progress((i + 1) / n, "load", f"Loaded {song.title}"))
        return Conditioning(materials=materials, sample_rate=self.settings.sample_rate)

    def take(self, take_id: str) -> Take:
        """A take by id (or "last" for the newest); raises InvalidInput when unknown."""
        event = None
        if take_id == "last":
            for candidate in self.ledger.events("generation"):
                event = candidate
        else:
            event = self.ledger.get(take_id)
        if event is None or event.kind != "generation":
            raise InvalidInput(f"no take with id {take_id!r} in the ledger")
        return take_from_event(event.id, event.ts, event.payload, self.takes)

    def take_audio(self, take: Take) -> np.ndarray:
        audio, _ = self.takes.read(take.id)
        return audio

    # -- compensate -----------------------------------------------------------------------------

    def royalties(self, take: Take) -> list[tuple[RightsHolder, float]]:
        """Each rights holder's share of the take's royalties, largest first."""
        songs = self.catalog.songs(list(take.provenance.song_shares()))
        holders = {s.holder.id: s.holder for song in songs.values() for s in song.splits}
        shares = holder_shares(take.provenance, songs)
        return sorted(
            ((holders[h], s) for h, s in shares.items()), key=lambda hs: (-hs[1], hs[0].name)
        )

    def attribution(self, take: Take) -> dict[str, Any]:
        """The attribution record that travels inside exported files."""
        songs = self.catalog.songs(list(take.provenance.song_shares()))
        refs = []
        for share in take.provenance.shares:
            ref = take.request.references[share.reference_index]
            song = songs.get(share.song_id)
            refs.append(
                {
                    **reference_to_dict(ref),
                    "title": song.title if song else "",
                    "artist": song.artist if song else "",
                    "share": round(share.share, 9),
                }
            )
        return {
            "generation_event_id": take.id,
            "verification_event_id": take.verification_event_id,
            "use": take.request.use.value,
            "engine": take.provenance.engine,
            "model": take.provenance.model,
            "device": take.provenance.device,
            "references": refs,
            "rights_holders": [
                {"id": h.id, "name": h.name, "share": round(s, 9)} for h, s in self.royalties(take)
            ],
        }

    def export(self, take: Take, out_path: Path) -> ExportResult:
        """Write the take as WAV or FLAC with its attribution inside; logged before it appears."""
        from musicapp.export import export_audio

        self.ledger.refuse_if_damaged()  # before any file is written
        audio, sr = self.takes.read(take.id)
        attribution = self.attribution(take)
        titles = [r["title"] for r in attribution["references"] if r["title"]]
        return export_audio(
            audio,
            sr,
            Path(out_path),
            attribution,
            self.ledger,
            title=f"After {' & '.join(titles[:3])}" if titles else "musicapp take",
        )

    def verify_file(self, path: Path) -> FileReport:
        from musicapp.export import verify_file

        return verify_file(Path(path), self.ledger)

    def verify_ledger(self) -> Any:
        return self.ledger.verify()

    def ledger_damage(self) -> Damage | None:
        """What stops the ledger from taking new events, as last found (no I/O); None: nothing."""
        return self.ledger.damage

    def check_ledger_job(self) -> FunctionJob[Damage | None]:
        """Look at the ledger again (e.g. after `musicapp ledger repair` ran elsewhere)."""
        return FunctionJob("Check the ledger", lambda _p, _c: self.ledger.check().damage, "io")
