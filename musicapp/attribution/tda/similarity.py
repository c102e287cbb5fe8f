"""The baselines TDA has to beat: how alike a training item and the take look, and chance.

- ``embedding``: cosine between mean token embeddings (the model's own input embedding
  table): "sounds alike to the model", the kind of evidence a similarity search gives;
- ``ngram``: cosine between token n-gram count profiles (n = 1..3): literal overlap of
  notes, durations and bar positions, the musicologist's first look;
- ``random``: seeded noise, the floor.

None of them asks what the model learned from which item, which is the point of comparing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from musicapp.attribution.tda.common import TrainingItems


def token_embeddings(model: Any) -> NDArray[np.float64]:
    """The input token embedding table: an Embedding named like ``tok``, else the first
    Embedding the model has (positional tables come after the token table by convention)."""
    import torch

    found = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Embedding)]
    if not found:
        raise ValueError("embedding similarity: the model has no token embedding table")
    named = [m for n, m in found if "tok" in n.rsplit(".", 1)[-1]]
    table = (named or [found[0][1]])[0].weight
    return np.asarray(table.detach().double().numpy(), dtype=np.float64)


def _cos(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b) / (na * nb) if na > 0 and nb > 0 else 0.0


def embedding_scores(
    model: Any, items: TrainingItems, generated: Sequence[int]
) -> NDArray[np.float64]:
    table = token_embeddings(model)

    def mean_vec(seqs: Sequence[Sequence[int]]) -> NDArray[np.float64]:
        ids = [t for s in seqs for t in s]
        return table[ids].mean(0) if ids else np.zeros(table.shape[1])

    g = mean_vec([generated])
    return np.array([_cos(mean_vec(ws), g) for _, ws in items], dtype=np.float64)


def _profile(seqs: Sequence[Sequence[int]], orders: Sequence[int]) -> Counter[tuple[int, ...]]:
    c: Counter[tuple[int, ...]] = Counter()
    for s in seqs:
        t = [int(x) for x in s]
        for n in orders:
            c.update(tuple(t[i : i + n]) for i in range(len(t) - n + 1))
    return c


def ngram_scores(
    items: TrainingItems, generated: Sequence[int], orders: Sequence[int] = (1, 2, 3)
) -> NDArray[np.float64]:
    g = _profile([generated], orders)
    gn = sum(v * v for v in g.values()) ** 0.5
    out = np.zeros(len(items), dtype=np.float64)
    for i, (_, ws) in enumerate(items):
        p = _profile(ws, orders)
        pn = sum(v * v for v in p.values()) ** 0.5
        if pn and gn:
            out[i] = sum(v * p[k] for k, v in g.items()) / (pn * gn)
    return out


def random_scores(n: int, seed: int = 0) -> NDArray[np.float64]:
    return np.random.default_rng(seed).standard_normal(n)
