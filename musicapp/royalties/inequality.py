"""How unequal a period's incomes are: Gini coefficient, top-X % share, Lorenz curve.

The measures of the Generative Content ID study (../shared/seeds/computational-copyright-
summary.txt): a mechanism that turns attribution into money is judged by who ends up with it.
Incomes are per holder; holders the period paid nothing count (they are part of the
population), so pass every holder who could have been paid.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def gini(incomes: NDArray[np.floating] | NDArray[np.integer]) -> float:
    """Gini coefficient, 0 (all equal) to (n-1)/n (one holder has everything); 0 for no
    income at all. O(n log n): G = sum_i (2i - n - 1) x_(i) / (n sum x), x sorted ascending."""
    x = np.sort(np.asarray(incomes, dtype=np.float64))
    n = x.size
    total = float(x.sum())
    if n == 0 or total <= 0:
        return 0.0
    if x[0] < 0:
        raise ValueError("incomes: a negative income has no Gini coefficient")
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def top_share(incomes: NDArray[np.floating] | NDArray[np.integer], fraction: float) -> float:
    """The share of all income that the richest ``fraction`` of holders receive (at least one
    holder): 0.01 is the top 1 %."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: {fraction} is not in (0, 1]")
    x = np.sort(np.asarray(incomes, dtype=np.float64))[::-1]
    total = float(x.sum())
    if x.size == 0 or total <= 0:
        return 0.0
    k = max(1, int(np.ceil(fraction * x.size)))
    return float(x[:k].sum() / total)


def lorenz(
    incomes: NDArray[np.floating] | NDArray[np.integer], points: int = 201
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The Lorenz curve at ``points`` population fractions from 0 to 1: (population share,
    income share of the poorest that share)."""
    x = np.sort(np.asarray(incomes, dtype=np.float64))
    pop = np.linspace(0.0, 1.0, points, dtype=np.float64)
    total = float(x.sum())
    if x.size == 0 or total <= 0:
        return pop, pop.copy()
    cum = np.concatenate([[0.0], np.cumsum(x) / total])
    return pop, np.interp(pop * x.size, np.arange(x.size + 1), cum).astype(np.float64)
