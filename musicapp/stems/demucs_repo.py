"""Demucs weights from the local models folder, in demucs' own repository layout.

The folder `models/demucs/` holds `<name>.yaml` (a bag of models: `models: [sig, ...]`) and one
`<sig>-<sha256 prefix>.th` per model, exactly as demucs publishes them, so
`demucs.pretrained.get_model(name, repo=folder)` loads them. Before that, the files are checked
against `models/manifest.toml`; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from musicapp.core import InvalidInput
from musicapp.weights import ModelEntry, ModelFile, WeightStatus, find_entry, status

DEMUCS_MODELS = ("htdemucs", "htdemucs_6s", "htdemucs_ft")
REPO_SUBDIR = "demucs"

_lock = threading.Lock()
_loaded: dict[tuple[Any, ...], Any] = {}  # the one most recently loaded model


def repo_dir(models_dir: Path) -> Path:
    return models_dir / REPO_SUBDIR


def check_weights(
    name: str, models_dir: Path, entries: list[ModelEntry] | None = None
) -> tuple[WeightStatus, str]:
    """The manifest status of a Demucs model (present, missing, bad checksum) and its detail."""
    entry = find_entry(name, entries)
    return status(entry, models_dir)


def weights_usable(state: WeightStatus) -> bool:
    return state in (WeightStatus.PRESENT, WeightStatus.UNCHECKED)


def _fingerprint(entry: ModelEntry, models_dir: Path) -> tuple[Any, ...]:
    files = []
    for f in entry.files:
        st = (models_dir / f.path).stat()
        files.append((f.path, st.st_size, st.st_mtime_ns))
    return (entry.name, str(models_dir), tuple(files))


def load_demucs(name: str, models_dir: Path, entries: list[ModelEntry] | None = None) -> Any:
    """Load a Demucs model (or bag) from the local repo folder, after checking its files.

    Missing files, a bad checksum and a damaged .th are InvalidInput naming the file and where
    to get it. The last model loaded is kept, so a second separation does not reload it.
    """
    entry = find_entry(name, entries)
    state, detail = status(entry, models_dir)
    if not weights_usable(state):
        raise InvalidInput(f"Demucs model {name}: weights {state.value}: {detail}")
    key = _fingerprint(entry, models_dir)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        model = _load_from_repo(name, repo_dir(models_dir), entry)
        _loaded.clear()
        _loaded[key] = model
        return model


def _load_from_repo(name: str, folder: Path, entry: ModelEntry) -> Any:
    import pickle
    import zipfile

    from demucs.pretrained import get_model
    from demucs.repo import ModelLoadingError

    if not folder.is_dir():  # demucs would call sys.exit (fatal) here
        raise InvalidInput(f"Demucs model {name}: {folder} is not a folder")
    try:
        model = get_model(name, repo=folder)
    except ModelLoadingError as exc:
        raise InvalidInput(
            f"Demucs model {name} in {folder}: {exc} (get it from: {entry.source})"
        ) from exc
    except (
        OSError,
        EOFError,
        RuntimeError,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
    ) as exc:
        raise InvalidInput(
            f"Demucs model {name} in {folder}: a weight file is damaged or not a demucs "
            f"package ({type(exc).__name__}: {exc}); get it again from: {entry.source}"
        ) from exc
    return model


def save_repo_model(
    model: Any, folder: Path, name: str, segment: float | None = None
) -> list[Path]:
    """Write a model in demucs' repo layout: `<sig>-<checksum>.th` plus `<name>.yaml`.

    The package is what `demucs.states.load_model` reads ({klass, args, kwargs, state});
    demucs' own `serialize_model` needs omegaconf (training only), so it is built here.
    Used for the tiny random model of the wiring tests and the benchmark.
    """
    import torch

    args, kwargs = model._init_args_kwargs
    package = {
        "klass": model.__class__,
        "args": args,
        "kwargs": kwargs,
        "state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    buf = io.BytesIO()
    torch.save(package, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    sig = hashlib.sha256(name.encode()).hexdigest()[:8]
    folder.mkdir(parents=True, exist_ok=True)
    th = folder / f"{sig}-{digest[:8]}.th"
    th.write_bytes(data)
    yaml = folder / f"{name}.yaml"
    lines = [f"models: ['{sig}']"] + ([f"segment: {segment}"] if segment else [])
    yaml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [yaml, th]


def manifest_entry(name: str, models_dir: Path, files: Sequence[Path], source: str) -> ModelEntry:
    """A manifest entry for files already in the models folder (with their sha256)."""
    from musicapp.weights import sha256_file

    return ModelEntry(
        name,
        "stem separation",
        "",
        source,
        tuple(
            ModelFile(str(p.relative_to(models_dir)).replace("\\", "/"), sha256_file(p))
            for p in files
        ),
    )


def tiny_htdemucs(
    sources: Sequence[str] = ("drums", "bass", "other", "vocals"),
    segment: float = 10.0,
    seed: int = 0,
) -> Any:
    """A small randomly initialised HTDemucs (about 350 k parameters) with real HTDemucs code
    paths (STFT branch, cross-transformer, segment handling): for wiring tests and benchmarks
    where the real weights are not available. Its output is noise-shaped, not separation."""
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(seed)
    model = HTDemucs(
        sources=list(sources), channels=8, t_layers=1, t_heads=2, dconv_depth=0, segment=segment
    )
    return model.eval()
