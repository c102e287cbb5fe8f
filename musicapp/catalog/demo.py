"""The demo catalogue: public-domain scores rendered to stems on first run, offline, deterministic."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from musicapp.catalog.recipe import Arrangement, Kit, Recipe, SongSpec, load_recipe
from musicapp.catalog.store import CatalogStore
from musicapp.config import CATALOGUE_RATE
from musicapp.core import ConsentRecord, Permission, Song, Stem, Use
from musicapp.jobs import CancelToken, Progress, ProgressCallback, no_progress

log = logging.getLogger(__name__)

# Songs whose consent tests and docs can rely on (test_demo_catalog checks each one); all are
# among the first ten of the recipe, so the small demo build has them.
PERMITTED_SONG_IDS = ("bach-bwv269", "oneills-1183", "ryans-soldiers-joy")  # everything allowed
OPTED_OUT_SONG_ID = "joplin-maple-leaf-rag"  # no consent record at all: default deny
REVOKED_SONG_ID = "oneills-0108"  # a holder's version 2 revokes version 1
SONG_LEVEL_ONLY_SONG_ID = "bach-bwv347"  # song-level use only, for every use
NON_COMMERCIAL_SONG_ID = "palestrina-kyrie-ad-fugam"  # private and non-commercial use only
SPLIT_COMMERCIAL_SONG_ID = "nottingham-cuckoos-nest"  # one of two holders refuses commercial

STAGE = "demo catalogue"
# Parsing and rendering are CPU-bound; two processes use both cores of a small laptop.
WORKERS = 2

ALL_PERMISSIONS = frozenset(Permission)
ALL_USES = frozenset(Use)
NOT_COMMERCIAL = frozenset({Use.PRIVATE, Use.NON_COMMERCIAL})


def build_demo(
    store: CatalogStore,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    limit: int | None = None,
    recipe: Recipe | None = None,
) -> int:
    """Render the demo songs missing from the store into it; return how many were added.

    Songs already in the store are skipped, so a cancelled build can be finished later. Each
    song's rows, consent and files go in together or not at all. `limit` takes the first songs
    of the recipe only (the first ten cover several genres and every kind of consent).
    `recipe` replaces the packaged one: the audit's evaluation harness renders a larger
    catalogue the same way (benchmarks/audit_data.py).
    """
    recipe = load_recipe() if recipe is None else recipe
    specs = recipe.songs if limit is None else recipe.songs[:limit]
    todo = [s for s in specs if store.song(s.id) is None]
    if not todo:
        progress(Progress(1.0, STAGE, "The demo catalogue is complete"))
        return 0
    progress(Progress(0.0, STAGE, f"Rendering {len(todo)} demo songs"))
    staging = Path(tempfile.mkdtemp(prefix=".demo-build-", dir=store.audio_dir))
    pool = ProcessPoolExecutor(
        min(WORKERS, len(todo)),
        mp_context=_worker_context(),
        initializer=_exit_with,
        initargs=(os.getpid(),),
    )
    built = 0
    try:
        jobs = [_RenderJob.make(spec, recipe, staging) for spec in todo]
        futures: list[Future[_Rendered]] = [pool.submit(_render_song, job) for job in jobs]
        for done, (job, future) in enumerate(zip(jobs, futures, strict=True), start=1):
            spec = job.spec
            if cancel is not None:
                cancel.check()
            try:
                rendered = _result(future, job)
            except Exception as exc:  # one bad score must not cost the user the other songs
                log.warning("demo song %s (%s) skipped: %s", spec.id, spec.source, exc)
                progress(Progress(done / len(todo), STAGE, f"Skipped {spec.id}: {exc}"))
                continue
            if cancel is not None:
                cancel.check()
            files = {name: Path(p) for name, p in rendered.files.items()}
            store.add_song(rendered.song, files, consent=consent_records(spec, recipe))
            built += 1
            progress(Progress(done / len(todo), STAGE, f"Added {rendered.song.describe()}"))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(staging, ignore_errors=True)
    return built


def _exit_with(app_pid: int) -> None:
    """In a worker: exit when the app's process is gone. A worker's parent is the fork server,
    not the app, so a killed app would otherwise leave its workers waiting forever."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(app_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # the pid was reused by another user's process
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-app", daemon=True).start()


def _worker_context() -> multiprocessing.context.BaseContext:
    # Not fork: the GUI calls this from a thread, and forking a threaded process can leave locks
    # held in the child. A fork server is a fresh single-threaded process that has imported
    # music21 once, so workers start at once; spawn (Windows) imports it in every worker.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["musicapp.catalog.arrange", "musicapp.catalog.synth", "music21"])
    return ctx


def _result(future: Future[_Rendered], job: _RenderJob) -> _Rendered:
    try:
        return future.result()
    except BrokenProcessPool:
        # Worker processes could not start (a script without a __main__ guard, a sandbox
        # without fork or spawn): render here instead, slower but complete.
        log.warning("demo catalogue: worker processes failed; rendering %s here", job.spec.id)
        return _render_song(job)


@dataclass
class BuildDemoCatalog:
    """The demo build as a job for the I/O lane."""

    store: CatalogStore
    limit: int | None = None
    name: str = "Build the demo catalogue"
    lane: str = "io"

    def run(self, progress: ProgressCallback, cancel: CancelToken) -> int:
        return build_demo(self.store, progress, cancel, self.limit)


def consent_records(spec: SongSpec, recipe: Recipe) -> list[ConsentRecord]:
    """The fictional consent of one demo song's rights holders, as the recipe's kind says."""
    t0 = recipe.consent_from
    first, *others = [s.holder.id for s in spec.splits]

    def rec(
        holder: str,
        permissions: frozenset[Permission] = ALL_PERMISSIONS,
        uses: frozenset[Use] = ALL_USES,
    ) -> ConsentRecord:
        return ConsentRecord(spec.id, holder, 1, permissions, uses, t0)

    everyone = [first, *others]
    kind = spec.consent
    if kind == "full":
        return [rec(h) for h in everyone]
    if kind == "song_only":
        return [rec(h, frozenset({Permission.SONG_INFERENCE})) for h in everyone]
    if kind == "no_audio":
        allowed = frozenset({Permission.SONG_INFERENCE, Permission.PARAMETER_INFERENCE})
        return [rec(h, allowed) for h in everyone]
    if kind == "non_commercial":
        return [rec(h, uses=NOT_COMMERCIAL) for h in everyone]
    if kind == "private_only":
        return [rec(h, uses=frozenset({Use.PRIVATE})) for h in everyone]
    if kind == "one_refuses_commercial":
        return [rec(first), *(rec(h, uses=NOT_COMMERCIAL) for h in others)]
    if kind == "one_holder_silent":
        return [rec(first)]
    if kind == "opt_out":
        return []
    if kind == "opt_out_explicit":
        return [rec(h, frozenset(), frozenset()) for h in everyone]
    if kind == "revoked":
        at = recipe.revoked_at
        revoke = ConsentRecord(spec.id, first, 2, ALL_PERMISSIONS, ALL_USES, at, revoked_at=at)
        return [*(rec(h) for h in everyone), revoke]
    raise ValueError(f"demo song {spec.id}: unknown consent kind {kind!r}")


def moods(minor: bool, tempo: float, extra: tuple[str, ...]) -> tuple[str, ...]:
    """Mood tags from the mode and the tempo, then the recipe's own."""
    if tempo < 72:
        pace = "calm"
    elif tempo < 100:
        pace = "flowing"
    elif tempo < 120:
        pace = "lively"
    else:
        pace = "energetic"
    found = ["melancholic" if minor else "bright", pace, *extra]
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class _RenderJob:
    spec: SongSpec
    arrangement: Arrangement
    kits: dict[str, Kit]
    min_s: float
    max_s: float
    tail_s: float
    out_dir: str

    @classmethod
    def make(cls, spec: SongSpec, recipe: Recipe, staging: Path) -> _RenderJob:
        arrangement = recipe.arrangements[spec.arrangement]
        return cls(
            spec, arrangement, recipe.kits, recipe.min_s, recipe.max_s, recipe.tail_s, str(staging)
        )


@dataclass(frozen=True)
class _Rendered:
    song: Song
    files: dict[str, str]


def _render_song(job: _RenderJob) -> _Rendered:
    """In a worker process: parse, arrange and render one song's stems to WAV files."""
    from musicapp.catalog.arrange import arrange
    from musicapp.catalog.synth import instrument_name, normalise, render

    spec = job.spec
    arranged = arrange(spec, job.arrangement, job.kits, job.min_s, job.max_s)
    n = round((arranged.length_s + job.tail_s) * CATALOGUE_RATE)
    out = Path(job.out_dir) / spec.id
    out.mkdir(parents=True, exist_ok=True)
    stems, files = [], {}
    for track in arranged.tracks:
        preset = track.kit.preset if track.kit else None
        audio = normalise(render(track.events, n, track.voice.program, preset), track.role)
        path = out / f"{track.voice.name}.wav"
        # 16-bit: the soundfont's own samples are 16-bit, so more depth would only cost disk;
        # the store keeps the depth it is given.
        sf.write(path, audio, CATALOGUE_RATE, subtype="PCM_16")
        files[track.voice.name] = str(path)
        instrument = track.kit.instrument if track.kit else instrument_name(track.voice.program)
        stems.append(Stem(track.voice.name, instrument, track.voice.family, track.role))
    meta = spec.meta
    song = Song(
        id=spec.id,
        title=meta["title"],
        artist=meta["artist"],
        album=meta["album"],
        genre=meta["genre"],
        subgenre=meta["subgenre"] or "",
        year=meta["year"],
        era=meta["era"] or "",
        country=meta["country"] or "",
        region=meta["region"] or "",
        instruments=tuple(dict.fromkeys(s.instrument for s in stems)),
        moods=moods(arranged.minor, spec.tempo, meta["moods"]),
        duration_s=n / CATALOGUE_RATE,
        tempo_bpm=spec.tempo,
        beats_per_bar=arranged.beats_per_bar,
        downbeat_s=arranged.downbeat_s,
        key=arranged.key,
        splits=spec.splits,
        stems=tuple(stems),
        sample_rate=CATALOGUE_RATE,
    )
    return _Rendered(song, files)
