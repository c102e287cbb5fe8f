"""Stems for a song or a file: the catalogue's rendered stems, Demucs, or the labelled fallback.

`stems_for` is the one entry the GUI and the CLI call. Demo songs (and imports that came with
stems) already have their parts; other audio is separated with Demucs when its weights are in
the models folder, else split by the DSP fallback, and the result says which and why (naming
the missing weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.config import Settings
from musicapp.core import InvalidInput
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback, no_progress
from musicapp.stems.cache import CacheKey, StemCache
from musicapp.stems.demucs_repo import check_weights, load_demucs, weights_usable
from musicapp.stems.fallback import FALLBACK_LABEL, fallback_to_dir
from musicapp.stems.separate import SeparationOptions, separate_to_dir
from musicapp.stems.streaming import AudioSource, ChannelFilesSource, FileSource
from musicapp.weights import ModelEntry

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore


class StemMethod(StrEnum):
    CATALOGUE = "catalogue"  # the song's own rendered (or supplied) stems
    DEMUCS = "demucs"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class StemsResult:
    """Where the stems are and how they were made; `label` is for the UI, `reason` says why
    this method was used (e.g. which weights are missing)."""

    method: StemMethod
    stems: dict[str, Path]
    sample_rate: int
    label: str
    reason: str
    model: str | None = None
    cached: bool = False
    song_id: str | None = None
    missing_weights: list[str] = field(default_factory=list)


def _catalogue_source(catalog: CatalogStore, song_id: str) -> StemsResult | AudioSource:
    """A song's own stems when it has real ones; else its own mix as a source to separate."""
    song = catalog.song(song_id)
    if song is None:
        raise InvalidInput(f"unknown song id {song_id!r}")
    if not song.stems:
        files = catalog.audio_files(song_id)
        if not files:
            raise InvalidInput(f"song {song_id} has no audio")
        if "" in files:
            return FileSource(files[""])
        return ChannelFilesSource(list(files.values()), song_id)  # an older import's channels
    paths = {s.name: catalog.stem_path(song_id, s.name) for s in song.stems}
    if catalog.stems_are_recorded(song_id):
        label, reason = "the recording's own stems", f"“{song.title}” was imported with its stems"
    else:
        label, reason = "rendered stems from the catalogue", f"“{song.title}” comes with its stems"
    return StemsResult(
        StemMethod.CATALOGUE, paths, song.sample_rate, label, reason, song_id=song_id
    )


def _resolve(source: str | Path, catalog: CatalogStore | None) -> StemsResult | AudioSource:
    """A file to separate, a catalogue song to separate, or a song's own stems."""
    path = Path(source)
    if path.is_file():
        return FileSource(path)
    if catalog is not None and catalog.song(str(source)) is not None:
        return _catalogue_source(catalog, str(source))
    raise InvalidInput(f"{source}: neither an audio file nor a song id in the catalogue")


def stems_for(
    source: str | Path,
    settings: Settings,
    catalog: CatalogStore | None = None,
    options: SeparationOptions | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    entries: list[ModelEntry] | None = None,
) -> StemsResult:
    """Stems of a file or a catalogue song (see the module docstring for the choice).

    Results of Demucs and of the fallback are cached per (content hash, model, settings) under
    `settings.data_dir / "stems"`; a repeated request returns at once with `cached=True`.
    """
    options = options or SeparationOptions()
    cancel = cancel or CancelToken()
    audio = _resolve(source, catalog)
    if isinstance(audio, StemsResult):
        progress(Progress(1.0, "stems", "catalogue stems"))
        return audio
    song_id = str(source) if not Path(source).is_file() else None
    state, detail = check_weights(options.model, settings.models_dir, entries)
    cache = StemCache(settings.data_dir / "stems")
    progress(Progress(0.0, "hash", f"reading {audio.name}"))
    content = audio.content_hash()
    if weights_usable(state):
        key = CacheKey(content, options.model, options.cache_tag())
        hit = cache.get(key)
        if hit is None:
            model = load_demucs(options.model, settings.models_dir, entries)
            hit = cache.put(
                key,
                lambda d: (
                    separate_to_dir(model, audio, d, options, progress, cancel),
                    int(model.samplerate),
                ),
            )
            cached = False
        else:
            cached = True
        progress(Progress(1.0, "separate", "done"))
        return StemsResult(
            StemMethod.DEMUCS,
            hit.stems,
            hit.sample_rate,
            f"separated by Demucs ({options.model})",
            f"weights for {options.model}: {detail}",
            model=options.model,
            cached=cached,
            song_id=song_id,
        )
    key = CacheKey(content, "hpss", "nfft=2048;kernel=17")
    hit = cache.get(key)
    cached = hit is not None
    if hit is None:
        hit = cache.put(
            key, lambda d: (fallback_to_dir(audio, d, progress, cancel), audio.samplerate)
        )
    progress(Progress(1.0, "fallback", "done"))
    return StemsResult(
        StemMethod.FALLBACK,
        hit.stems,
        hit.sample_rate,
        FALLBACK_LABEL,
        f"Demucs weights for {options.model} are {state.value}: {detail}",
        cached=cached,
        song_id=song_id,
        missing_weights=[options.model],
    )


def stems_job(
    source: str | Path,
    settings: Settings,
    catalog: CatalogStore | None = None,
    options: SeparationOptions | None = None,
    entries: list[ModelEntry] | None = None,
) -> FunctionJob[StemsResult]:
    """`stems_for` as a job for the GUI's compute lane (progress, cancel)."""
    return FunctionJob(
        f"stems of {Path(str(source)).name}",
        lambda p, c: stems_for(source, settings, catalog, options, p, c, entries),
        lane="compute",
    )


DEMUCS_MODELS = ("htdemucs_6s", "htdemucs_ft", "htdemucs")  # most parts first


def separated_parts(song_id: str, settings: Settings, catalog: CatalogStore) -> StemsResult | None:
    """The parts of a song without stems of its own that were separated before (Demucs, best
    model first, else the DSP fallback), from the cache; None when it was never separated.
    Separates nothing: the studio uses it to target a part of such a song."""
    audio = _resolve(song_id, catalog)
    if isinstance(audio, StemsResult):
        return None  # the song's own stems: they are its parts
    cache = StemCache(settings.data_dir / "stems")
    content = audio.content_hash()
    default = SeparationOptions().cache_tag()
    for model in DEMUCS_MODELS:
        hit = cache.get(CacheKey(content, model, default))
        if hit is not None:
            label = f"separated by Demucs ({model})"
            return StemsResult(
                StemMethod.DEMUCS, hit.stems, hit.sample_rate, label, "", model, True, song_id
            )
    hit = cache.get(CacheKey(content, "hpss", "nfft=2048;kernel=17"))
    if hit is None:
        return None
    return StemsResult(
        StemMethod.FALLBACK, hit.stems, hit.sample_rate, FALLBACK_LABEL, "", None, True, song_id
    )
