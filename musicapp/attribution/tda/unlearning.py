"""Unlearning-based scores (the seed: "Large-scale training data attribution for music
generative models via unlearning"): make the model forget the generated sequence, then ask
which training items it forgot along with it.

A copy of the model takes a few gradient-ASCENT steps (Adam, so ``lr`` is roughly the step
per parameter whatever the loss's scale) on the generated sequence's loss; an item's score is
the rise of its loss (summed over its windows) between before and after. An item that taught
the model what it generated is dragged up with it.

The step size and number of steps matter and no retraining is at hand in the app to tune
them, so ``grid_search`` picks them by a criterion that needs none (docs/tda.md):

1. the unlearning took: the sample's loss rose by at least ``MIN_RISE`` of itself, and
   selectively: the training windows' mean loss rose by at most ``MAX_SPILL`` times that;
2. among those, the most consistent: the highest mean Spearman between a setting's scores
   and its grid neighbours' (next step size, next step count), averaged over the samples.
   A setting whose ranking flips when nudged is measuring the optimiser, not the data.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from musicapp.attribution.tda.common import (
    TrainingItems,
    batches,
    example_loss,
    flatten,
    generated_windows,
    per_item,
    window_losses,
)
from musicapp.attribution.tda.metrics import spearman

MIN_RISE = 0.05  # the sample's loss must rise by 5 % of itself
MAX_SPILL = 0.5  # and the training windows' by at most half of the sample's rise
LRS = (1e-4, 3e-4, 1e-3, 3e-3)
STEPS = (1, 2, 4, 8)


@dataclass(frozen=True)
class Setting:
    lr: float
    steps: int


@dataclass(frozen=True)
class Outcome:
    """One setting on one sample: item scores and how far the losses moved."""

    scores: NDArray[np.float64]
    sample_rise: float  # relative rise of the sample's own loss
    train_rise: float  # mean rise of the training windows' loss, in the same units


class UnlearningIndex:
    """The training windows and their losses before any unlearning, computed once."""

    def __init__(
        self,
        model: Any,
        items: TrainingItems,
        *,
        batch: int = 32,
        before: NDArray[np.float64] | None = None,
    ) -> None:
        """``before``: the windows' losses computed earlier for this very model (kept on
        disk), so they are not computed again."""
        self.model, self.batch = model, batch
        self.windows, self.owners = flatten(items)
        self.n_items = len(items)
        if before is not None and before.shape != (len(self.windows),):
            raise ValueError(f"before: {before.shape} losses for {len(self.windows)} windows")
        self.before = before if before is not None else window_losses(model, self.windows, batch)

    def path(self, generated: Sequence[int], lr: float, steps: Sequence[int]) -> dict[int, Outcome]:
        """Unlearn ``generated`` with step size ``lr`` and read the scores after each count
        in ``steps`` (one trajectory, so the counts share their first steps)."""
        import torch

        if lr <= 0:
            raise ValueError(f"lr: {lr} must be positive")
        wanted = sorted(set(steps))
        if not wanted or wanted[0] < 1:
            raise ValueError(f"steps: {list(steps)} must be counts of one or more")
        gen = generated_windows(self.model, generated)
        student = copy.deepcopy(self.model)
        student.eval()  # no dropout: every setting unlearns the same function
        gen_before = float(window_losses(student, gen, self.batch).mean())
        opt = torch.optim.Adam([p for p in student.parameters() if p.requires_grad], lr=lr)
        out: dict[int, Outcome] = {}
        for step in range(1, wanted[-1] + 1):
            opt.zero_grad()
            total = torch.zeros(())
            for _, ids in batches(gen, self.batch):
                total = total + example_loss(student, ids).sum()
            (-total / len(gen)).backward()  # type: ignore[no-untyped-call]  # ascent
            opt.step()
            if step in wanted:
                after = window_losses(student, self.windows, self.batch)
                delta = after - self.before
                gen_after = float(window_losses(student, gen, self.batch).mean())
                rise = gen_after - gen_before
                out[step] = Outcome(
                    per_item(delta, self.owners, self.n_items),
                    rise / max(gen_before, 1e-9),
                    float(delta.mean()) / max(gen_before, 1e-9),
                )
        return out

    def scores(self, generated: Sequence[int], setting: Setting) -> NDArray[np.float64]:
        return self.path(generated, setting.lr, [setting.steps])[setting.steps].scores


@dataclass(frozen=True)
class GridRow:
    setting: Setting
    sample_rise: float  # means over the samples
    train_rise: float
    consistency: float
    took: bool


def _neighbours(s: Setting, lrs: Sequence[float], steps: Sequence[int]) -> list[Setting]:
    i, j = list(lrs).index(s.lr), list(steps).index(s.steps)
    near = [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
    return [Setting(lrs[a], steps[b]) for a, b in near if 0 <= a < len(lrs) and 0 <= b < len(steps)]


def grid_search(
    index: UnlearningIndex,
    samples: Sequence[Sequence[int]],
    lrs: Sequence[float] = LRS,
    steps: Sequence[int] = STEPS,
) -> tuple[Setting, list[GridRow], dict[Setting, list[NDArray[np.float64]]]]:
    """The chosen setting, every setting's row, and every setting's scores per sample (so a
    caller that has ground truth can show how the choice compares)."""
    if not samples:
        raise ValueError("grid_search: no samples to unlearn")
    lrs, steps = sorted(lrs), sorted(steps)
    outcomes: dict[Setting, list[Outcome]] = {}
    for sample in samples:
        for lr in lrs:
            for n, o in index.path(sample, lr, steps).items():
                outcomes.setdefault(Setting(lr, n), []).append(o)
    rows: list[GridRow] = []
    for s, outs in outcomes.items():
        near = _neighbours(s, lrs, steps)
        agree = [
            spearman(o.scores, outcomes[t][k].scores) for k, o in enumerate(outs) for t in near
        ]
        rise = float(np.mean([o.sample_rise for o in outs]))
        spill = float(np.mean([o.train_rise for o in outs]))
        took = rise >= MIN_RISE and spill <= MAX_SPILL * rise
        rows.append(GridRow(s, rise, spill, float(np.mean(agree)) if agree else 0.0, took))
    rows.sort(key=lambda r: (r.setting.lr, r.setting.steps))
    good = [r for r in rows if r.took]
    chosen = (
        max(good, key=lambda r: r.consistency) if good else max(rows, key=lambda r: r.sample_rise)
    )
    return chosen.setting, rows, {s: [o.scores for o in outs] for s, outs in outcomes.items()}
