"""TRAK-style scores (Park et al. 2023) for a causal token model.

Each training window's loss gradient (per example: ``torch.func`` ``vmap(grad)`` over
``functional_call``) is projected to ``dim`` dimensions by a seeded random matrix: Φ (windows
× dim). The generated sequence's gradient is projected the same way: g. A window's score is

    s_w = φ_w ᵀ (ΦᵀΦ + λI)⁻¹ g

(the kernel is solved on the smaller side: ``(ΦΦᵀ + λI)⁻¹ Φ g`` is the same vector), an item's
score is the sum over its windows, and with several models (an ensemble) the scores are
averaged. Positive means the item pulled the model towards the generated sequence: removing
it should raise the sequence's loss. λ is relative: ``reg`` times the kernel's mean
eigenvalue, so it does not depend on the gradients' scale.

Why not dattri's ``TRAKAttributor``: it weighs every training example by 1 − p(correct), a
classification quantity with no counterpart for a sequence of hundreds of next-token
predictions; it wants DataLoaders and a flat-parameter task, and updates a module-level dict
of projector defaults in place. Our own is the few lines above (docs/tda.md).

Projections: ``"rademacher"`` (dense ±1/√dim, generated in seeded column blocks, so memory
stays bounded for any model size) and ``"sjlt"`` (a sparse sign-and-bucket sketch, one
nonzero per parameter: far cheaper on big models, the same expectation of inner products).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from musicapp.attribution.tda.common import (
    TrainingItems,
    batches,
    example_loss,
    flatten,
    generated_windows,
    loss_module,
    per_item,
)

if TYPE_CHECKING:
    import torch

BLOCK = 1 << 15  # parameters per block of the dense projection
CACHE_BYTES = 512 << 20  # keep the dense matrix when it fits in this


class Projector:
    """A seeded linear map from the flattened gradient (``size`` values) to ``dim``."""

    def __init__(self, size: int, dim: int, seed: int, kind: str = "rademacher") -> None:
        import torch

        if kind not in ("rademacher", "sjlt"):
            raise ValueError(f"projection: {kind!r} is not 'rademacher' or 'sjlt'")
        if dim < 1:
            raise ValueError(f"dim: {dim} must be at least 1")
        self.size, self.dim, self.seed, self.kind = size, dim, seed, kind
        self._cache: dict[int, torch.Tensor] = {}
        self._keep = size * dim * 4 <= CACHE_BYTES
        if kind == "sjlt":
            g = torch.Generator().manual_seed(seed)
            self.bucket = torch.randint(0, dim, (size,), generator=g)
            self.sign = torch.randint(0, 2, (size,), generator=g).float() * 2 - 1

    def _block(self, b: int) -> torch.Tensor:
        import torch

        if b in self._cache:
            return self._cache[b]
        rows = min(BLOCK, self.size - b * BLOCK)
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + b)
        m: torch.Tensor = torch.randint(0, 2, (rows, self.dim), generator=g).float() * 2 - 1
        m = m / self.dim**0.5
        if self._keep:
            self._cache[b] = m
        return m

    def __call__(self, flat: torch.Tensor) -> torch.Tensor:
        import torch

        if self.kind == "sjlt":
            out = torch.zeros(flat.shape[0], self.dim, dtype=flat.dtype)
            return out.index_add_(1, self.bucket, flat * self.sign)
        out = torch.zeros(flat.shape[0], self.dim, dtype=flat.dtype)
        for b in range((self.size + BLOCK - 1) // BLOCK):
            out += flat[:, b * BLOCK : (b + 1) * BLOCK] @ self._block(b).to(flat.dtype)
        return out


def features(
    model: Any,
    windows: Sequence[Sequence[int]],
    projector: Projector | None = None,
    *,
    dim: int = 2048,
    seed: int = 0,
    projection: str = "rademacher",
    batch: int = 16,
    vectorised: bool = True,
) -> tuple[NDArray[np.float64], Projector]:
    """Projected per-window loss gradients (windows × dim) and the projector used.

    ``vectorised``: per-example gradients with ``torch.func.vmap`` (fast for small models);
    False takes one backward pass per window instead, which is what a model with fused
    attention needs on the CPU (vmap falls back to a slow path there: 2 s against 35 ms a
    window for the shipped composer)."""
    if not vectorised:
        return _features_one_by_one(model, windows, projector, dim, seed, projection)
    import torch
    from torch.func import functional_call, grad, vmap

    wrapper = loss_module(model)
    was_training = model.training
    model.eval()  # no dropout: the gradient of the model that is actually used
    params = {k: v.detach() for k, v in wrapper.named_parameters() if v.requires_grad}
    size = sum(v.numel() for v in params.values())
    if projector is None:
        projector = Projector(size, dim, seed, projection)

    def loss_one(p: dict[str, torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = functional_call(wrapper, p, (ids.unsqueeze(0),))[0]
        return out

    per_example = vmap(grad(loss_one), in_dims=(None, 0), randomness="different")
    out = np.zeros((len(windows), projector.dim), dtype=np.float64)
    try:
        for part, ids in batches(windows, batch):
            grads = per_example(params, ids)
            flat = torch.cat([grads[k].reshape(len(part), -1) for k in params], dim=1)
            out[part] = projector(torch.nan_to_num(flat)).double().numpy()
    finally:
        model.train(was_training)
    return out, projector


def _features_one_by_one(
    model: Any,
    windows: Sequence[Sequence[int]],
    projector: Projector | None,
    dim: int,
    seed: int,
    projection: str,
) -> tuple[NDArray[np.float64], Projector]:
    import torch

    was_training = model.training
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    if projector is None:
        projector = Projector(sum(p.numel() for p in params), dim, seed, projection)
    device = params[0].device if params else torch.device("cpu")
    out = np.zeros((len(windows), projector.dim), dtype=np.float64)
    try:
        for i, window in enumerate(windows):
            ids = torch.tensor([list(window)], dtype=torch.long, device=device)
            loss = example_loss(model, ids)[0]
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            flat = torch.cat(
                [(g if g is not None else torch.zeros_like(p)).reshape(1, -1).cpu()
                 for g, p in zip(grads, params, strict=True)], dim=1,
            )  # fmt: skip
            out[i] = projector(torch.nan_to_num(flat))[0].double().numpy()
    finally:
        model.train(was_training)
    return out, projector


def kernel_map(phi: NDArray[np.float64], reg: float) -> NDArray[np.float64]:
    """The matrix A with A g = [φ_wᵀ (ΦᵀΦ + λI)⁻¹ g]_w, solved on the smaller side
    (``(ΦΦᵀ + λI)⁻¹ Φ`` when there are fewer windows than dimensions: the same map)."""
    n, k = phi.shape
    if n <= k:
        gram = phi @ phi.T
        lam = reg * max(float(np.trace(gram)) / n, 1e-12)
        return np.asarray(np.linalg.solve(gram + lam * np.eye(n), phi), dtype=np.float64)
    cov = phi.T @ phi
    lam = reg * max(float(np.trace(cov)) / k, 1e-12)
    return np.asarray(np.linalg.solve(cov + lam * np.eye(k), phi.T).T, dtype=np.float64)


class TrakIndex:
    """The training side of TRAK, computed once: every window's projected gradient under each
    model of the ensemble and the kernel map. ``scores`` then costs one gradient per take."""

    def __init__(
        self,
        models: Any,
        items: TrainingItems,
        *,
        dim: int = 2048,
        reg: float = 0.01,
        seed: int = 0,
        projection: str = "rademacher",
        batch: int = 16,
        vectorised: bool = True,
    ) -> None:
        self.vectorised = vectorised
        self.models = list(models) if isinstance(models, list | tuple) else [models]
        if not self.models:
            raise ValueError("models: the ensemble is empty")
        if reg <= 0:
            raise ValueError(f"reg: {reg} must be positive")
        windows, self.owners = flatten(items)
        self.n_items, self.batch = len(items), batch
        self.phis: list[tuple[NDArray[np.float64], Projector]] = []
        for j, model in enumerate(self.models):  # each model its own projection, as in TRAK
            phi, proj = features(
                model,
                windows,
                dim=dim,
                seed=seed + j,
                projection=projection,
                batch=batch,
                vectorised=vectorised,
            )
            self.phis.append((phi, proj))
        self.maps = [(kernel_map(phi, reg), proj) for phi, proj in self.phis]

    @classmethod
    def from_map(
        cls,
        model: Any,
        owners: NDArray[np.int64],
        n_items: int,
        amap: NDArray[np.float64],
        projector: Projector,
        vectorised: bool = True,
    ) -> TrakIndex:
        """An index from a kernel map computed before (kept on disk): one model, no
        training gradients kept, so ``with_reg`` is not available on it."""
        index = cls.__new__(cls)
        index.models, index.owners, index.n_items, index.batch = [model], owners, n_items, 1
        index.vectorised, index.phis, index.maps = vectorised, [], [(amap, projector)]
        return index

    def with_reg(self, reg: float) -> TrakIndex:
        """The same gradients under another ridge (no gradient recomputed): for the harness's
        look at how much λ matters."""
        if reg <= 0:
            raise ValueError(f"reg: {reg} must be positive")
        if not self.phis:
            raise ValueError("with_reg: this index keeps no training gradients (from_map)")
        other = copy.copy(self)
        other.maps = [(kernel_map(phi, reg), proj) for phi, proj in self.phis]
        return other

    def scores(self, generated: Sequence[int]) -> NDArray[np.float64]:
        """One score per training item (the index's order), averaged over the ensemble."""
        total = np.zeros(self.n_items, dtype=np.float64)
        for model, (amap, proj) in zip(self.models, self.maps, strict=True):
            gen, _ = features(
                model,
                generated_windows(model, generated),
                proj,
                batch=self.batch,
                vectorised=self.vectorised,
            )
            total += per_item(amap @ gen.mean(0), self.owners, self.n_items)
        return total / len(self.models)


def trak_scores(
    models: Any, items: TrainingItems, generated: Sequence[int], **settings: Any
) -> NDArray[np.float64]:
    """TRAK scores of every training item for one generated sequence (see ``TrakIndex``)."""
    return TrakIndex(models, items, **settings).scores(generated)
