"""The studio's door to training the composer: the training set, a run, the models, the marks.

``studio.training`` is what ``musicapp train`` and the GUI use: the training set as current
consent makes it (``corpus``), a run as a job (``train_job``: write-ahead, see
``training/run.py``), the models this ledger knows (trained here or installed) with whether
their weights are published and intact, and the revocation marks (``marks``: refreshed from
current consent first, each logged once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.jobs import CancelToken, ProgressCallback
from musicapp.training.corpus import TrainingSet, build_training_set
from musicapp.training.marks import Mark, logged_marks, refresh_marks, trained_models
from musicapp.training.run import (
    DEFAULT_PUBLIC_DOMAIN,
    TrainingJob,
    TrainOptions,
    TrainResult,
    run_training,
    trained_root,
)

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.ledger import Ledger

Blocked = Callable[[list[str]], Mapping[str, list[str]]]


@dataclass(frozen=True)
class ModelInfo:
    """One model with the state of its weights here and how many marks it carries."""

    model_id: str
    training_event_id: str
    origin: str  # "trained" (here), "installed" (shipped, recorded here) or "shipped" (not yet)
    logged_at: str
    state: str  # "published", "not published" (event, no weights) or "changed" (bad sha256)
    folder: str
    songs: int
    public_domain: int
    final_loss: float
    device: str
    marks: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class TrainingRoom:
    """Training over one catalogue, one ledger and one models folder."""

    def __init__(
        self, settings: Settings, catalog: CatalogStore, ledger: Ledger, blocked: Blocked
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._ledger = ledger
        self._blocked = blocked

    @property
    def cache_dir(self) -> Path:
        """Where the tokens of public-domain tunes are kept between runs."""
        return Path(self._settings.data_dir) / "training"

    @property
    def models_dir(self) -> Path:
        return trained_root(self._settings.models_dir)

    def corpus(
        self,
        *,
        songs_only: bool = False,
        public_domain: int = DEFAULT_PUBLIC_DOMAIN,
        seed: int = 0,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TrainingSet:
        """The training set current consent allows (tokenised, as a run would use it)."""
        ids = self._catalog.song_ids()
        return build_training_set(
            self._catalog,
            public_domain_count=0 if songs_only else public_domain,
            seed=seed,
            blocked=self._blocked(ids),
            cache_dir=self.cache_dir,
            progress=progress or (lambda _p: None),
            cancel=cancel,
        )

    def train_job(self, **options: Any) -> TrainingJob:
        """A training run with ``TrainOptions`` fields as keywords (epochs, seed, device,
        songs_only, public_domain, d_model, n_layers, n_heads, context, batch, lr)."""
        opts = TrainOptions(**options)

        def run(progress: ProgressCallback, cancel: CancelToken) -> TrainResult:
            return run_training(
                self._catalog,
                self._ledger,
                self._settings.models_dir,
                opts,
                cache_dir=self.cache_dir,
                blocked=self._blocked,
                progress=progress,
                cancel=cancel,
            )

        return TrainingJob(run)

    def marks(self, refresh: bool = True) -> list[Mark]:
        """Every revocation mark, after logging those current consent newly calls for."""
        if refresh:
            refresh_marks(self._ledger, self._catalog)
        return logged_marks(self._ledger)

    def training_songs(self) -> list[str]:
        """Every catalogue song a model of this ledger learned from (trained here or
        installed): whom a flat training pool is paid to."""
        songs = {
            str(i.get("id"))
            for m in trained_models(self._ledger)
            for i in m.payload.get("items", [])
            if i.get("kind") == "song"
        }
        return sorted(songs)

    def record_shipped(self) -> str | None:
        """Load the shipped composer (checked against the manifest) and log ``model_installed``
        in this ledger the first time; returns the new event's id, None when already logged.
        What the composing engine's first take calls, so the ledger names what it composes with."""
        from musicapp.generation.composer.weights import load_composer, record_installed

        return record_installed(self._ledger, load_composer())

    def models(self) -> list[ModelInfo]:
        """The models of this ledger, oldest first, with their weights' state here; then the
        shipped model, when this ledger has not recorded it yet (origin "shipped")."""
        from musicapp.generation.composer.weights import SHIPPED_MODELS_DIR, WEIGHTS_FILE
        from musicapp.weights import sha256_file

        counts: dict[str, int] = {}
        for mark in logged_marks(self._ledger):
            counts[mark.model_id] = counts.get(mark.model_id, 0) + 1
        out = []
        for m in trained_models(self._ledger):
            if m.origin == "trained":
                folder = self.models_dir / m.model_id
            else:
                folder = SHIPPED_MODELS_DIR / "composer"
            weights = folder / WEIGHTS_FILE
            if not weights.is_file():
                state = "not published"
            elif sha256_file(weights) != m.weights_sha256:
                state = "changed"
            else:
                state = "published"
            items = m.payload.get("items", [])
            out.append(
                ModelInfo(
                    m.model_id,
                    m.training_event_id,
                    m.origin,
                    m.logged_at,
                    state,
                    str(folder),
                    sum(1 for i in items if i.get("kind") == "song"),
                    sum(1 for i in items if i.get("kind") == "public_domain"),
                    float(m.payload.get("final_loss", float("nan"))),
                    str(m.payload.get("device", "")),
                    counts.get(m.model_id, 0),
                )
            )
        shipped = _shipped_info()
        if shipped is not None and shipped.model_id not in {m.model_id for m in out}:
            out.append(shipped)
        return out


def _shipped_info() -> ModelInfo | None:
    """The shipped model as its files describe it (sha256s checked, nothing loaded), or None
    when this checkout has none."""
    import json

    from musicapp.generation.composer.weights import MODEL_NAME, SHIPPED_MODELS_DIR, TRAINING_FILE
    from musicapp.weights import check_model, find_entry, load_manifest

    if not any(e.name == MODEL_NAME for e in load_manifest()):
        return None
    check = check_model(find_entry(MODEL_NAME), SHIPPED_MODELS_DIR)
    folder = SHIPPED_MODELS_DIR / MODEL_NAME
    try:
        event = json.loads((folder / TRAINING_FILE).read_text("utf-8"))
        p = event["payload"]
        items = p["items"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ModelInfo(
        str(p["model_id"]),
        str(event.get("id", "")),
        "shipped",
        str(event.get("ts", "")),
        "published" if check.usable else check.state.value,
        str(folder),
        sum(1 for i in items if i.get("kind") == "song"),
        sum(1 for i in items if i.get("kind") == "public_domain"),
        float(p.get("final_loss", float("nan"))),
        str(p.get("device", "")),
        0,
    )
