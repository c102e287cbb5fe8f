"""What every torch-side method shares: windows flattened with their owners, the model's own
per-window loss (also in the ``torch.func`` form that per-example gradients need), and sums
back to training items.

A training item is ``(item_id, windows)``: one song's token sequence cut into the fixed-length
chunks the model was trained on. An item's score is the sum over its windows, as its share of
the training objective is the sum of its windows' losses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

TrainingItems = Sequence[tuple[str, Sequence[Sequence[int]]]]


def flatten(items: TrainingItems) -> tuple[list[list[int]], NDArray[np.int64]]:
    """Every window of every item, and the index of the item each came from."""
    windows: list[list[int]] = []
    owners: list[int] = []
    seen: set[str] = set()
    for i, (item_id, ws) in enumerate(items):
        if item_id in seen:
            raise ValueError(f"training items: {item_id!r} is listed twice")
        seen.add(item_id)
        usable = [list(w) for w in ws if len(w) >= 2]
        windows.extend(usable)
        owners.extend([i] * len(usable))
    if not windows:
        raise ValueError("training items: no window of two tokens or more")
    return windows, np.asarray(owners, dtype=np.int64)


def per_item(values: NDArray[np.float64], owners: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """Sum window values into their items (an item without usable windows scores 0)."""
    out = np.zeros(n, dtype=np.float64)
    np.add.at(out, owners, values)
    return out


def context_of(model: Any, default: int = 512) -> int:
    config = getattr(model, "config", None)
    return int(getattr(config, "context", default))


def generated_windows(model: Any, generated: Sequence[int]) -> list[list[int]]:
    """The generated sequence in windows the model can take (its context, one token of
    overlap so no next-token prediction is lost at a cut)."""
    ids = [int(t) for t in generated]
    if len(ids) < 2:
        raise ValueError(f"generated: {len(ids)} token(s); attribution needs at least two")
    ctx = context_of(model)
    if len(ids) <= ctx:
        return [ids]
    return [ids[s : s + ctx] for s in range(0, len(ids) - 1, ctx - 1) if len(ids[s : s + ctx]) >= 2]


def batches(
    windows: Sequence[Sequence[int]], size: int
) -> Iterator[tuple[list[int], torch.Tensor]]:
    """(positions, ids tensor) batches of equal-length windows, so they stack and vmap."""
    import torch

    by_len: dict[int, list[int]] = {}
    for i, w in enumerate(windows):
        by_len.setdefault(len(w), []).append(i)
    for length in sorted(by_len):
        ix = by_len[length]
        for s in range(0, len(ix), size):
            part = ix[s : s + size]
            yield part, torch.tensor([list(windows[i]) for i in part], dtype=torch.long)


def example_loss(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token NLL per row: the model's own ``example_loss`` when it has one. The ids
    go to the model's device (a composer loaded on CUDA or MPS)."""
    first = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    if first is not None and ids.device != first.device:
        ids = ids.to(first.device)
    if hasattr(model, "example_loss"):
        out: torch.Tensor = model.example_loss(ids)
        return out
    import torch.nn.functional as F

    logits = model(ids)[:, :-1]
    nll = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none"
    )
    return nll.view(ids.shape[0], -1).mean(1)


def window_losses(
    model: Any, windows: Sequence[Sequence[int]], batch: int = 32
) -> NDArray[np.float64]:
    """Each window's loss under ``model`` (eval mode, no gradients)."""
    import torch

    out = np.zeros(len(windows), dtype=np.float64)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for part, ids in batches(windows, batch):
            out[part] = example_loss(model, ids).double().cpu().numpy()
    model.train(was_training)
    return out


def loss_module(model: Any) -> torch.nn.Module:
    """A module whose forward is ``model``'s per-row loss, for ``torch.func.functional_call``."""
    import torch

    class _Loss(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return example_loss(self.inner, ids)

    return _Loss(model)
