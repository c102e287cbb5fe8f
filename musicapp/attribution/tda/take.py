"""Training-data attribution for each take of the composing engine: which of the songs the
model learned from it leaned on to write this take, by TRAK and by unlearning.

Both methods are the ones ``benchmarks/tda.py`` validates against retraining (docs/tda.md),
with the settings that harness chose: TRAK with a sparse (SJLT) projection to ``DIM``
dimensions and ridge ``REG``, unlearning with Adam at ``UNLEARN_LR`` for ``UNLEARN_STEPS``
steps. The training side of both (every training window's projected gradient and the kernel
map; every window's loss before unlearning) depends only on the model, so it is computed once
per model (about 40 s for the shipped composer on a 2-core CPU) and kept in ``cache_dir``
under the weights' sha256; a take then costs one gradient and one pass over the training
windows.

What a take's provenance gets (``TakeAttribution.to_dict``):

- ``songs``: {song: weight} over the catalogue songs with a positive unlearning score (the
  ``ESTIMATE_TOP`` largest, summing to 1): what the royalties' ``estimate`` training policy
  pays the training pool by. Public-domain tunes have nobody to pay and are left out (their
  part of the positive influence is stated as ``public_domain_part``). Unlearning, not TRAK,
  makes the estimate because it tracks retraining better here (docs/tda.md).
- ``top``: the ``SHOWN`` most influential training items with both scores, for the result panel.
- ``policy``: the pool's default, ``flat`` over the model's training songs, the design paper's
  position until training-time attribution is credible; the estimates are logged so a period
  can be paid ``estimate`` instead, from the same ledger.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from musicapp.jobs import CancelToken, Progress, ProgressCallback

DIM = 1024
SEED = 0
REG = 1.0  # the ridge the harness's sweep found best (docs/tda.md, "How much λ matters")
UNLEARN_LR = 3e-4  # the harness's grid-searched setting
UNLEARN_STEPS = 2
ESTIMATE_TOP = 10
SHOWN = 8
POLICY = "flat"
STAGE = "training attribution"
CHUNK = 64  # training windows between progress reports and cancel checks


@dataclass(frozen=True)
class Influence:
    """One training item's scores for a take (larger: the take leaned on it more)."""

    item_id: str
    kind: str  # "song" or "public_domain"
    title: str
    trak: float
    unlearning: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item_id,
            "kind": self.kind,
            "title": self.title,
            "trak": round(self.trak, 6),
            "unlearning": round(self.unlearning, 6),
        }


@dataclass(frozen=True)
class TakeAttribution:
    model_id: str
    training_event_id: str
    training_songs: int
    songs: dict[str, float]  # the estimate: {song: weight}, summing to 1 (empty: none positive)
    public_domain_part: float
    top: tuple[Influence, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "training_event_id": self.training_event_id,
            "policy": POLICY,
            "training_songs": self.training_songs,
            "estimate_method": "unlearning",
            "settings": {
                "trak": {"projection": "sjlt", "dim": DIM, "reg": REG, "seed": SEED},
                "unlearning": {"lr": UNLEARN_LR, "steps": UNLEARN_STEPS},
            },
            "songs": {s: round(w, 9) for s, w in sorted(self.songs.items())},
            "public_domain_part": round(self.public_domain_part, 6),
            "top": [i.to_dict() for i in self.top],
            "seconds": round(self.seconds, 3),
        }


class TakeAttributor:
    """Attribution of takes to one loaded composer's training items (``LoadedComposer``)."""

    def __init__(self, loaded: Any, cache_dir: Path) -> None:
        self.loaded = loaded
        self.cache_dir = Path(cache_dir)
        self._state: tuple[Any, Any, NDArray[np.float64]] | None = None

    @property
    def cache_path(self) -> Path:
        sha = str(self.loaded.weights_sha256)[:16]
        return self.cache_dir / f"{self.loaded.model_id}-{sha}-sjlt{DIM}-s{SEED}.npz"

    def _prepare(self, progress: ProgressCallback, cancel: CancelToken) -> Any:
        """(TrakIndex, UnlearningIndex, item kinds) from the cache, else computed and kept."""
        if self._state is not None:
            return self._state
        from musicapp.attribution.tda.common import flatten
        from musicapp.attribution.tda.trak import Projector, TrakIndex, features, kernel_map
        from musicapp.attribution.tda.unlearning import UnlearningIndex
        from musicapp.generation.composer.train import windows

        model = self.loaded.model
        context = int(model.config.context)
        items = [
            (item.id, windows([seq], context))
            for item, seq in zip(
                self.loaded.training_set, self.loaded.training_sequences(), strict=True
            )
        ]
        flat, owners = flatten(items)
        size = sum(p.numel() for p in model.parameters() if p.requires_grad)
        projector = Projector(size, DIM, SEED, "sjlt")
        cached = _read_cache(self.cache_path, len(flat))
        if cached is None:
            progress(Progress(0.0, STAGE, f"Reading the model's {len(flat)} training windows"))
            phi = np.zeros((len(flat), DIM))
            for s in range(0, len(flat), CHUNK):
                cancel.check()
                part = flat[s : s + CHUNK]
                phi[s : s + len(part)], _ = features(model, part, projector, vectorised=False)
                done = (s + len(part)) / len(flat)
                progress(Progress(0.7 * done, STAGE, "The training windows' gradients"))
            amap = kernel_map(phi, REG)
            progress(Progress(0.75, STAGE, "The training windows' losses"))
            unlearn = UnlearningIndex(model, items)
            _write_cache(self.cache_path, amap, unlearn.before)
        else:
            amap, before = cached
            unlearn = UnlearningIndex(model, items, before=before)
        trak = TrakIndex.from_map(model, owners, len(items), amap, projector, vectorised=False)
        kinds = np.asarray([item.kind == "song" for item in self.loaded.training_set])
        self._state = (trak, unlearn, kinds)
        return self._state

    def attribute(
        self, generated: Sequence[int], progress: ProgressCallback, cancel: CancelToken
    ) -> TakeAttribution:
        """Both methods' scores for the take's tokens, and the estimate from them."""
        from musicapp.attribution.tda.unlearning import Setting

        started = time.monotonic()
        trak, unlearn, is_song = self._prepare(progress, cancel)
        cancel.check()
        progress(Progress(0.85, STAGE, "TRAK scores"))
        t_scores = trak.scores(generated)
        cancel.check()
        progress(Progress(0.9, STAGE, "Unlearning the take"))
        u_scores = unlearn.scores(generated, Setting(UNLEARN_LR, UNLEARN_STEPS))
        items = self.loaded.training_set
        positive = np.where(np.isfinite(u_scores) & (u_scores > 0), u_scores, 0.0)
        total = float(positive.sum())
        pd_part = float(positive[~is_song].sum()) / total if total > 0 else 0.0
        song_ix = [i for i in np.argsort(-positive) if is_song[i] and positive[i] > 0]
        kept = song_ix[:ESTIMATE_TOP]
        kept_total = float(sum(positive[i] for i in kept))
        songs = {items[i].id: float(positive[i]) / kept_total for i in kept} if kept else {}
        order = np.lexsort((-t_scores, -u_scores))[:SHOWN]
        top = tuple(
            Influence(
                items[i].id, items[i].kind, items[i].title, float(t_scores[i]), float(u_scores[i])
            )
            for i in order
        )
        progress(Progress(1.0, STAGE, "Attributed to the training set"))
        return TakeAttribution(
            str(self.loaded.model_id),
            str(self.loaded.training_event_id),
            int(is_song.sum()),
            songs,
            pd_part,
            top,
            time.monotonic() - started,
        )


def _read_cache(
    path: Path, n_windows: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The kept (kernel map, losses before) when they fit this model's windows, else None."""
    try:
        with np.load(path, allow_pickle=False) as data:
            amap = np.asarray(data["amap"], dtype=np.float64)
            before = np.asarray(data["before"], dtype=np.float64)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # missing, truncated or foreign: computed again and rewritten
    if amap.shape != (n_windows, DIM) or before.shape != (n_windows,):
        return None
    return amap, before


def _write_cache(path: Path, amap: NDArray[np.float64], before: NDArray[np.float64]) -> None:
    import io

    from musicapp.files import write_atomic

    buf = io.BytesIO()
    np.savez(buf, amap=amap.astype(np.float32), before=before)
    write_atomic(path, buf.getvalue())


def policy_text(training: Mapping[str, Any]) -> str:
    """How the take's training pool is paid, in words (the result panel and the CLI)."""
    n = int(training.get("training_songs", 0))
    model = str(training.get("model_id", "the model"))
    line = (
        f"Training pool: paid flat-rate over the {n} catalogue songs {model} learned from "
        "(the default until training-data attribution is credible; docs/tda.md)."
    )
    songs = training.get("songs") or {}
    titles = {str(i.get("id")): str(i.get("title")) for i in training.get("top") or []}
    if songs:
        shown = sorted(songs.items(), key=lambda kv: -float(kv[1]))[:3]
        parts = ", ".join(f"{titles.get(s, s)} {float(w):.0%}" for s, w in shown)
        more = f" and {len(songs) - 3} more" if len(songs) > 3 else ""
        line += f" Estimate by {training.get('estimate_method', 'unlearning')}, logged for an "
        line += f"estimate-based period: {parts}{more}."
    else:
        line += " No catalogue song scored above zero: an estimate-based period pays it flat."
    pd_part = float(training.get("public_domain_part", 0.0))
    if pd_part > 0:
        line += f" Public-domain tunes: {pd_part:.0%} of the influence, owed to no one."
    return line


def influence_rows(
    training: Mapping[str, Any],
) -> list[tuple[str, str, float, float, float | None]]:
    """(title, "catalogue song" or "public domain", unlearning, TRAK, estimate share or None)
    for the most influential training items, most influential first."""
    songs = training.get("songs") or {}
    rows = []
    for item in training.get("top") or []:
        kind = "catalogue song" if item.get("kind") == "song" else "public domain"
        share = songs.get(item.get("id"))
        rows.append(
            (
                str(item.get("title") or item.get("id")),
                kind,
                float(item.get("unlearning", 0.0)),
                float(item.get("trak", 0.0)),
                None if share is None else float(share),
            )
        )
    return rows
