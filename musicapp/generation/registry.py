"""The engines the app offers, by name; building the list loads no model code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from musicapp.config import Settings
from musicapp.core import InvalidInput
from musicapp.generation.base import ENGINE_LABELS, Engine
from musicapp.weights import MANIFEST, load_manifest

DEFAULT_ENGINE = "concat"


def _concat() -> Engine:
    from musicapp.generation.concat import ConcatEngine

    return ConcatEngine()


def _tonematch() -> Engine:
    from musicapp.generation.tonematch import ToneMatchEngine

    return ToneMatchEngine()


def _composer(settings: Settings) -> Engine:
    from musicapp.generation.composer.engine import ComposerEngine

    # The device is chosen when the model loads: listing engines imports no torch.
    attribution_dir = Path(settings.data_dir) / "training" / "attribution"
    return ComposerEngine(
        settings.audio_dir, None, settings.device, attribution_dir=attribution_dir
    )


def _musicgen(settings: Settings) -> Engine:
    from musicapp.generation.musicgen import MusicGenMelodyEngine

    return MusicGenMelodyEngine(settings.models_dir, settings.device)


# name -> factory. Factories import their engine's module themselves, so an engine that needs
# torch or weights costs nothing until it is asked for.
_FACTORIES: dict[str, Callable[[], Engine]] = {"concat": _concat, "tonematch": _tonematch}
# Engines that need the settings (where the catalogue's scores are) but no downloaded weights:
# the composer's ship with the app.
_SETTINGS_ENGINES: dict[str, Callable[[Settings], Engine]] = {"composer": _composer}

# Engines that need weights: name -> (manifest entry, factory). They are offered only when the
# manifest's files are in the models folder; otherwise `unavailable_engines` says why.
_MODEL_ENGINES: dict[str, tuple[str, Callable[[Settings], Engine]]] = {
    "musicgen-melody": ("musicgen-melody", _musicgen),
}


def _settings_engine_problem(name: str) -> str | None:
    """Why an engine of ``_SETTINGS_ENGINES`` cannot run here (the composer needs torch and
    miditok, the ``ml`` extra, and its shipped weights), or None. Nothing is imported."""
    import importlib.util

    missing = [m for m in ("torch", "miditok", "symusic") if importlib.util.find_spec(m) is None]
    if missing:
        return f"needs {', '.join(missing)} (install the ml extra)"
    weights = Path(__file__).resolve().parents[2] / "models" / "composer" / "composer.pt"
    if not weights.is_file():
        return f"weights missing: {weights} (`musicapp train` makes them)"
    return None


def register(name: str, factory: Callable[[], Engine]) -> None:
    """Offer another engine (a model-based one, or a test double) under `name`."""
    _FACTORIES[name] = factory


def _missing_weights(entry_name: str, models_dir: Path, manifest: Path = MANIFEST) -> str | None:
    """Why a model engine cannot run (its first missing file, or one nothing vouches for), or
    None when its files are there. Nothing is read here: checksums are verified when the engine
    loads its model; a file without a published checksum must be on the local trust list."""
    from musicapp.model_trust import TrustList

    entry = next((m for m in load_manifest(manifest) if m.name == entry_name), None)
    if entry is None:
        return f"the model manifest has no entry {entry_name!r}"
    trust: TrustList | None = None
    for f in entry.files:
        path = models_dir / f.path
        if not path.is_file():
            return f"weights missing: {path} (get it from: {entry.source})"
        if not f.sha256:
            trust = trust or TrustList.load(models_dir)
            if not trust.has_path(f.path):
                return (
                    f"no published checksum for {path}: check it yourself, then "
                    f"`musicapp models import {path} --trust`"
                )
    return None


def unavailable_engines(settings: Settings | None = None) -> dict[str, str]:
    """Model engines that cannot run here, by name, with the reason (e.g. "weights missing: …")."""
    settings = settings or Settings()
    out: dict[str, str] = {}
    for name, (entry_name, _) in _MODEL_ENGINES.items():
        reason = _missing_weights(entry_name, settings.models_dir)
        if reason is not None:
            out[name] = reason
    for name in _SETTINGS_ENGINES:
        reason = _settings_engine_problem(name)
        if reason is not None:
            out[name] = reason
    return out


def engines(settings: Settings | None = None) -> dict[str, Engine]:
    """Every engine that can run here by name, the default first (model engines only when their
    weights are present)."""
    listed = {name: factory() for name, factory in _FACTORIES.items()}
    for name, with_settings in _SETTINGS_ENGINES.items():
        if _settings_engine_problem(name) is None and name not in listed:
            listed[name] = with_settings(settings or Settings())
    if _MODEL_ENGINES:
        settings = settings or Settings()
        missing = unavailable_engines(settings)
        for name, (_, factory) in _MODEL_ENGINES.items():
            if name not in missing and name not in listed:
                listed[name] = factory(settings)
    return listed


def engine_labels(settings: Settings | None = None) -> list[tuple[str, str]]:
    """(name, label) of every engine that can run here, as engines() lists them, without
    building any: the window's start must not wait for scipy or torch."""
    names = list(_FACTORIES)
    names += [n for n in _SETTINGS_ENGINES if _settings_engine_problem(n) is None]
    if _MODEL_ENGINES:
        missing = unavailable_engines(settings or Settings())
        names += [n for n in _MODEL_ENGINES if n not in missing and n not in _FACTORIES]
    return [(n, ENGINE_LABELS[n] if n in ENGINE_LABELS else _FACTORIES[n]().label) for n in names]


def get_engine(name: str, settings: Settings | None = None) -> Engine:
    """The engine called `name`; an unknown name, or a model engine without its weights, is an
    InvalidInput that says what is wrong."""
    factory = _FACTORIES.get(name)
    if factory is not None:
        return factory()
    if name in _SETTINGS_ENGINES:
        problem = _settings_engine_problem(name)
        if problem is not None:
            raise InvalidInput(f"engine {name!r} cannot run: {problem}")
        return _SETTINGS_ENGINES[name](settings or Settings())
    if name in _MODEL_ENGINES:
        settings = settings or Settings()
        entry_name, model_factory = _MODEL_ENGINES[name]
        reason = _missing_weights(entry_name, settings.models_dir)
        if reason is not None:
            raise InvalidInput(
                f"engine {name!r} cannot run: {reason}; the concat engine needs no weights"
            )
        return model_factory(settings)
    known = ", ".join(sorted({*_FACTORIES, *_SETTINGS_ENGINES, *_MODEL_ENGINES}))
    raise InvalidInput(f"engine {name!r} is not known (known engines: {known})")


def default_engine_name() -> str:
    return DEFAULT_ENGINE
