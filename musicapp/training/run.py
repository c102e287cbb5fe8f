"""One training run of the composer, as a job: training set, training, then write-ahead publish.

The order that never leaves published weights without their event:

1. the training set is read from current consent (``corpus.py``) and tokenised;
2. the model is trained (cancellable at every step; nothing is written before this ends);
3. the weights, ``config.json`` and ``training-tokens.npz`` (every item's tokens, which
   training-data attribution reads: ``sequences.py``) are written into a staging folder beside the published
   ones (``.staging-*``, same file system) and the weights' sha256 is computed;
4. the ``training`` event is appended to the ledger: the model id, every song with the
   consent versions relied on, every public-domain tune, the songs left out and why, the seed,
   hyper-parameters, device, the loss curve, and the weights' sha256;
5. ``training.json`` (the event as logged: id, time, payload, hashes) is written beside the
   weights, and only then is the staging folder renamed to ``<models>/composer-trained/<id>``.

A crash before 4 leaves a staging folder (removed by the next run) and no event; a crash
between 4 and 5 leaves an event whose model never appeared (``musicapp train status`` says
"not published"). Published weights without an event cannot happen: the rename comes last,
and ``load_trained`` checks the weights against the sha256 the event logged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.jobs import CancelToken, Progress, ProgressCallback, scaled
from musicapp.training.corpus import TrainingSet, build_training_set
from musicapp.training.sequences import SEQUENCES_FILE, write_sequences

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.ledger import Event, Ledger

TRAINED_DIR = "composer-trained"  # under the models folder: one sub-folder per model id
STAGE = "publishing"
DEFAULT_PUBLIC_DOMAIN = 120


@dataclass(frozen=True)
class TrainOptions:
    """What ``musicapp train`` may set; the network's shape defaults to the shipped model's."""

    epochs: int = 4
    seed: int = 0
    device: str = "auto"
    songs_only: bool = False
    public_domain: int = DEFAULT_PUBLIC_DOMAIN
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 4
    context: int = 256
    dropout: float = 0.1
    batch: int = 16
    lr: float = 1e-3
    only: tuple[str, ...] | None = None  # restrict the catalogue songs considered

    def __post_init__(self) -> None:
        from musicapp.core import InvalidInput

        if self.epochs < 1:
            raise InvalidInput(f"epochs: {self.epochs} (give 1 or more)")
        if self.public_domain < 0:
            raise InvalidInput(f"public-domain tunes: {self.public_domain} (give 0 or more)")
        if self.batch < 1 or self.context < 8 or self.d_model % self.n_heads:
            raise InvalidInput(
                "network: batch must be 1 or more, context 8 or more, and d_model a multiple "
                "of n_heads"
            )


@dataclass(frozen=True)
class TrainResult:
    """What a run made: the model, its event, its training set in numbers, and timings."""

    model_id: str
    event_id: str
    folder: Path
    weights_sha256: str
    songs: int
    public_domain: int
    excluded: int
    tokens: int
    windows: int
    steps: int
    final_loss: float
    device: str
    train_seconds: float
    total_seconds: float
    losses: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "losses"}
        out["folder"] = str(self.folder)
        return out


def trained_root(models_dir: Path) -> Path:
    return Path(models_dir) / TRAINED_DIR


def run_training(
    catalog: CatalogStore,
    ledger: Ledger,
    models_dir: Path,
    options: TrainOptions,
    *,
    cache_dir: Path | None = None,
    blocked: Callable[[list[str]], Mapping[str, list[str]]] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """Train a composer on the consented training set and publish it (module docstring)."""
    from musicapp.generation.device import choose_device

    started = time.monotonic()
    report = progress or (lambda _p: None)
    device = choose_device(options.device)  # an unknown or absent device fails before work
    blocks = blocked(catalog.song_ids()) if blocked is not None else None
    tset = build_training_set(
        catalog,
        public_domain_count=0 if options.songs_only else options.public_domain,
        seed=options.seed,
        blocked=blocks,
        cache_dir=cache_dir,
        only=options.only,
        progress=scaled(report, 0.0, 0.25),
        cancel=cancel,
    )
    if not tset.items:
        from musicapp.core import InvalidInput

        raise InvalidInput(
            "nothing to train on: no catalogue song allows model training and has a score"
            + ("" if options.songs_only else ", and no public-domain tune could be read")
        )
    return publish(
        tset, ledger, models_dir, options, device, started, scaled(report, 0.25, 1.0), cancel
    )


def publish(
    tset: TrainingSet,
    ledger: Ledger,
    models_dir: Path,
    options: TrainOptions,
    device: str,
    started: float,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> TrainResult:
    """Train on ``tset`` and publish the model write-ahead (steps 2 to 5 of the docstring)."""
    import torch

    from musicapp.generation.composer import tokens
    from musicapp.generation.composer.model import ComposerConfig
    from musicapp.generation.composer.train import TrainSpec, train_with_log

    config = ComposerConfig(
        vocab=tokens.VOCAB_SIZE,
        d_model=options.d_model,
        n_layers=options.n_layers,
        n_heads=options.n_heads,
        context=options.context,
        dropout=options.dropout,
    )
    spec = TrainSpec(
        epochs=options.epochs, batch=options.batch, lr=options.lr, seed=options.seed, device=device
    )
    model, log = train_with_log(
        list(tset.sequences), config, spec, scaled(progress, 0.0, 0.97), cancel
    )
    if cancel is not None:
        cancel.check()
    root = trained_root(models_dir)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(root)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    staging.chmod(0o755)  # mkdtemp's folder is private; a model folder is like any other
    try:
        from musicapp.generation.composer.weights import CONFIG_FILE, TRAINING_FILE, WEIGHTS_FILE

        weights = staging / WEIGHTS_FILE
        torch.save(model.state_dict(), weights)
        data = weights.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        model_id = f"composer-{stamp}-{sha[:8]}"
        event_id = uuid.uuid4().hex
        payload = _payload(tset, model_id, config, spec, device, log, sha, len(data))
        _write_json(staging / CONFIG_FILE, _config_json(model_id, config, sha, event_id))
        write_sequences(staging / SEQUENCES_FILE, tset.items, tset.sequences)
        progress(Progress(0.98, STAGE, f"logging the training event of {model_id}"))
        from musicapp.ledger.kinds import TRAINING

        event = ledger.append(TRAINING, payload, event_id)  # write-ahead: before the rename
        _write_json(staging / TRAINING_FILE, _event_json(event))
        final = root / model_id
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress(Progress(1.0, STAGE, f"published {model_id}"))
    return TrainResult(
        model_id=model_id,
        event_id=event.id,
        folder=final,
        weights_sha256=sha,
        songs=len(tset.songs),
        public_domain=len(tset.public_domain),
        excluded=len(tset.excluded),
        tokens=tset.total_tokens,
        windows=log.windows,
        steps=log.steps,
        final_loss=log.final_loss,
        device=device,
        train_seconds=log.seconds,
        total_seconds=time.monotonic() - started,
        losses=list(log.losses),
    )


def _payload(
    tset: TrainingSet,
    model_id: str,
    config: Any,
    spec: Any,
    device: str,
    log: Any,
    sha: str,
    size: int,
) -> dict[str, Any]:
    import torch

    from musicapp.generation.composer import tokens
    from musicapp.generation.composer.weights import WEIGHTS_FILE
    from musicapp.ledger.training_kinds import training_payload

    run = {
        "windows": log.windows,
        "steps": log.steps,
        "seconds": log.seconds,
        "losses": log.losses,
        "final_loss": log.final_loss,
    }
    payload = training_payload(
        model_id=model_id,
        tokenizer=tokens.config_dict(),
        config=config.to_dict(),
        spec=spec.to_dict(),
        device=device,
        torch_version=str(torch.__version__),
        consent_at=tset.consent_at.isoformat(),
        items=[i.to_dict() for i in tset.items],
        excluded=[e.to_dict() for e in tset.excluded],
        run=run,
        weights={"file": WEIGHTS_FILE, "sha256": sha, "bytes": size},
    )
    return dict(payload)


def _config_json(model_id: str, config: Any, sha: str, event_id: str) -> dict[str, Any]:
    from musicapp.generation.composer import tokens

    return {
        "model_id": model_id,
        "config": config.to_dict(),
        "tokenizer": tokens.config_dict(),
        "weights_sha256": sha,
        "training_event_id": event_id,
    }


def _event_json(event: Event) -> dict[str, Any]:
    return event.to_dict()


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")


STALE_STAGING_S = 6 * 3600  # a run's staging folder lives for seconds; older ones were left


def _remove_stale_staging(root: Path) -> None:
    """Staging folders a crashed run left (never a published one, nor another run's fresh
    one: only those untouched for STALE_STAGING_S)."""
    now = time.time()
    for old in root.glob(".staging-*"):
        try:
            if now - old.stat().st_mtime > STALE_STAGING_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


@dataclass
class TrainingJob:
    """A training run for the compute lane (the GUI's job runner, the CLI's progress bar)."""

    run_fn: Callable[[ProgressCallback, CancelToken], TrainResult]
    name: str = "Train the composer"
    lane: str = "compute"

    def run(self, progress: ProgressCallback, cancel: CancelToken) -> TrainResult:
        return self.run_fn(progress, cancel)
