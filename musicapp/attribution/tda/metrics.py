"""How well an attribution agrees with retraining: Spearman, the linear datamodeling score,
and a bootstrap confidence interval. Plain numpy, so the harness and the tests share it.

The ground truth is counterfactual: models retrained on random halves of the training set.
For one generated sample with loss ``losses[m]`` under the model trained on subset ``m``
(``mask[m, i]`` true when item ``i`` was in it):

- the leave-out effect of item ``i`` is the mean loss of the sample under the models trained
  WITHOUT ``i`` minus the mean under the models WITH it: positive when ``i`` helped;
- the linear datamodeling score (LDS, the TRAK paper's) is the Spearman correlation, over the
  subsets, between the sum of an attribution's scores over each subset and the sample's
  negated loss under that subset's model (more helpful items in, lower loss).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def ranks(values: ArrayLike) -> NDArray[np.float64]:
    """Ranks from 1, ties sharing their mean rank (what Spearman needs)."""
    x = np.asarray(values, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x), dtype=np.float64)
    r[order] = np.arange(1, len(x) + 1, dtype=np.float64)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.zeros(len(counts))
    np.add.at(sums, inverse, r)
    return np.asarray((sums / counts)[inverse], dtype=np.float64)


def spearman(a: ArrayLike, b: ArrayLike) -> float:
    """Spearman's rank correlation; 0.0 when either side is constant (no ranking to agree
    with), so a degenerate method scores as uninformative rather than as NaN."""
    ra, rb = ranks(a), ranks(b)
    if len(ra) != len(rb):
        raise ValueError(f"spearman: {len(ra)} values against {len(rb)}")
    if len(ra) < 2 or np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def leave_out_effect(mask: ArrayLike, losses: ArrayLike) -> NDArray[np.float64]:
    """Per item: mean loss without it minus mean loss with it (NaN when an item was in every
    subset or in none, so no contrast exists)."""
    m = np.asarray(mask, dtype=bool)
    y = np.asarray(losses, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != len(y):
        raise ValueError(f"leave_out_effect: mask {m.shape} does not match {len(y)} losses")
    inside, outside = m.sum(0), (~m).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_in = (m * y[:, None]).sum(0) / inside
        mean_out = ((~m) * y[:, None]).sum(0) / outside
    return np.asarray(mean_out - mean_in, dtype=np.float64)


def lds(scores: ArrayLike, mask: ArrayLike, losses: ArrayLike) -> float:
    """Linear datamodeling score: Spearman over subsets of (sum of scores in the subset)
    against the sample's negated loss under the subset's model."""
    m = np.asarray(mask, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if m.shape[1] != len(s):
        raise ValueError(f"lds: mask has {m.shape[1]} items, scores {len(s)}")
    return spearman(m @ s, -np.asarray(losses, dtype=np.float64))


def spearman_vs_truth(scores: ArrayLike, truth: ArrayLike) -> float:
    """Spearman against the leave-out effect, over the items that have one."""
    s, t = np.asarray(scores, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    ok = np.isfinite(t)
    return spearman(s[ok], t[ok])


def bootstrap_ci(
    values: Sequence[float] | NDArray[np.float64],
    *,
    level: float = 0.95,
    resamples: int = 5000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(mean, low, high): the mean over samples and its percentile bootstrap interval."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        raise ValueError("bootstrap_ci: no values")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(resamples, len(v)))].mean(1)
    tail = (1.0 - level) / 2.0
    return float(v.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
