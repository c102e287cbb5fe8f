"""Demucs weights from the local models folder, in demucs' own repository layout.

The folder `models/demucs/` holds `<name>.yaml` (a bag of models: `models: [sig, ...]`) and one
`<sig>-<sha256 prefix>.th` per model, exactly as demucs publishes them. Every file is checked
against `models/manifest.toml` (full sha256) or the local trust list first; nothing is ever
downloaded. demucs' own loader (`demucs.pretrained.get_model`) is not used: it unpickles `.th`
files with `weights_only=False`, so a file that is only *named* right could run any code. Here
the verified bytes themselves are unpickled with `weights_only=True`, allowing exactly the two
classes a demucs package names besides tensors (`SAFE_GLOBALS`), then handed to
`demucs.states.load_model` as the dict it accepts.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from musicapp.core import InvalidInput
from musicapp.weights import (
    USABLE,
    ModelCheck,
    ModelEntry,
    ModelFile,
    WeightStatus,
    check_model,
    file_stamp,
    find_entry,
)

DEMUCS_MODELS = ("htdemucs", "htdemucs_6s", "htdemucs_ft")
REPO_SUBDIR = "demucs"

_lock = threading.Lock()
_loaded: dict[tuple[Any, ...], Any] = {}  # the one most recently loaded model


def repo_dir(models_dir: Path) -> Path:
    return models_dir / REPO_SUBDIR


def check_weights(
    name: str, models_dir: Path, entries: list[ModelEntry] | None = None
) -> tuple[WeightStatus, str]:
    """The state of a Demucs model's files (verified, trusted locally, missing, bad checksum,
    unverifiable) and its detail."""
    check = check_model(find_entry(name, entries), models_dir)
    return check.state, check.detail


def weights_usable(state: WeightStatus) -> bool:
    return state in USABLE


def load_demucs(name: str, models_dir: Path, entries: list[ModelEntry] | None = None) -> Any:
    """Load a Demucs model (or bag) from the local repo folder, after checking its files.

    Missing, unverifiable or altered files, a `.th` asking for anything but tensors and the
    demucs model class, and a damaged `.th` are InvalidInput naming the file and where to get
    it. The last model loaded is kept, so a second separation does not reload it.
    """
    entry = find_entry(name, entries)
    check = check_model(entry, models_dir)
    if not check.usable:
        raise InvalidInput(f"Demucs model {name}: weights {check.state.value}: {check.detail}")
    key = (entry.name, str(models_dir), tuple((c.file.path, c.sha256) for c in check.files))
    with _lock:
        if key in _loaded:
            return _loaded[key]
        model = _load_bag(check)
        _loaded.clear()
        _loaded[key] = model
        return model


def _verified_bytes(check: ModelCheck, f: ModelFile) -> bytes:
    """The bytes of a checked file, read once: the same bytes are hashed and then parsed, so a
    file swapped after its check is refused instead of loaded."""
    c = next(c for c in check.files if c.file == f)
    data = c.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != c.sha256 or file_stamp(c.path) != c.stamp:
        raise InvalidInput(f"{c.path} changed after it was checked; nothing was loaded")
    return data


def _load_bag(check: ModelCheck) -> Any:
    import yaml
    from demucs.apply import BagOfModels

    entry = check.entry
    name = entry.name
    bag_file = next((f for f in entry.files if f.path.endswith(f"/{name}.yaml")), None)
    if bag_file is None:
        raise InvalidInput(f"model manifest: {name} lists no {REPO_SUBDIR}/{name}.yaml")
    try:
        bag = yaml.safe_load(_verified_bytes(check, bag_file).decode("utf-8"))
        signatures = [str(s) for s in bag["models"]]
    except (yaml.YAMLError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise InvalidInput(f"Demucs model {name}: {bag_file.path} is not a bag of models") from exc
    models = [_load_one(check, _th_for(entry, sig)) for sig in signatures]
    try:
        return BagOfModels(models, bag.get("weights"), bag.get("segment")).eval()
    except (AssertionError, TypeError, ValueError) as exc:
        raise InvalidInput(f"Demucs model {name}: its models do not fit together ({exc})") from exc


def _th_for(entry: ModelEntry, sig: str) -> ModelFile:
    """The manifest's `.th` for a signature the bag names: only listed files are ever read."""
    for f in entry.files:
        file_name = PurePosixPath(f.path).name
        if file_name == f"{sig}.th" or (file_name.startswith(f"{sig}-") and f.path.endswith(".th")):
            return f
    raise InvalidInput(
        f"Demucs model {entry.name}: its bag names model {sig!r}, which the manifest does not list"
    )


def _safe_globals() -> list[Any]:
    """What a demucs package may name besides tensors: its model class (referenced, then built
    by demucs from the checked kwargs) and Fraction (segment lengths). Nothing callable else."""
    from fractions import Fraction

    from demucs.htdemucs import HTDemucs

    return [HTDemucs, Fraction]


def _load_one(check: ModelCheck, f: ModelFile) -> Any:
    import pickle
    import zipfile

    import torch
    from demucs.states import load_model

    data = _verified_bytes(check, f)
    where = f"Demucs model {check.entry.name}: {f.path}"
    allowed = _safe_globals()
    try:
        with torch.serialization.safe_globals(allowed):
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    except (ValueError, RuntimeError, zipfile.BadZipFile):
        unsafe = []  # not a zip checkpoint: the weights-only unpickler below still refuses
    if unsafe:
        raise InvalidInput(
            f"{where} refused: it asks to import {', '.join(sorted(unsafe))}; a demucs package "
            "holds only tensors and its model class, so it is not loaded"
        )
    try:
        with torch.serialization.safe_globals(allowed):
            package = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        wanted = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if wanted:
            raise InvalidInput(
                f"{where} refused: it asks to import {wanted.group(1)}; a demucs package holds "
                "only tensors and its model class, so it is not loaded"
            ) from exc
        raise InvalidInput(
            f"{where}: damaged or not a torch file (not a weights-only pickle); get it again "
            f"from: {check.entry.source}"
        ) from exc
    except (OSError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidInput(
            f"{where}: damaged or not a torch file ({type(exc).__name__}); get it again from: "
            f"{check.entry.source}"
        ) from exc
    klass = package.get("klass") if isinstance(package, dict) else None
    if klass not in allowed[:1] or not isinstance(package.get("state"), dict):
        raise InvalidInput(
            f"{where}: not a demucs model package; get it again from: {check.entry.source}"
        )
    try:
        return load_model(package)
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"{where}: damaged or not a demucs package ({type(exc).__name__}: {exc}); get it "
            f"again from: {check.entry.source}"
        ) from exc


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
