"""A tiny random causal token model standing in for ComposerModel in these tests: the same
surface (``config.context``, ``forward`` -> logits, ``example_loss`` -> per-row NLL), a
cumulative-mean mixer instead of attention, a few thousand parameters."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


class TinyRandomLM(torch.nn.Module):
    def __init__(self, vocab: int = 40, d: int = 16, context: int = 64, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.config = SimpleNamespace(vocab=vocab, context=context)
        self.tok_emb = torch.nn.Embedding(vocab, d)
        self.pos_emb = torch.nn.Embedding(context, d)
        self.mix = torch.nn.Linear(d, d)
        self.head = torch.nn.Linear(d, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        x = self.tok_emb(ids) + self.pos_emb(torch.arange(t))
        x = x.cumsum(1) / torch.arange(1, t + 1).view(1, t, 1)  # causal: only the past
        return self.head(torch.tanh(self.mix(x)) + x)

    def example_loss(self, ids: torch.Tensor) -> torch.Tensor:
        logits = self(ids)[:, :-1]
        nll = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none"
        )
        return nll.view(ids.shape[0], -1).mean(1)


def random_items(n: int, vocab: int = 40, length: int = 24, seed: int = 1):
    """``n`` training items of two random windows each."""
    rng = random.Random(seed)
    return [
        (f"song-{i}", [[rng.randrange(vocab) for _ in range(length)] for _ in range(2)])
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def tiny_random_lm():
    """The class, so a test can build several (different seeds) of them."""
    return TinyRandomLM


@pytest.fixture(scope="module")
def items_of():
    return random_items
