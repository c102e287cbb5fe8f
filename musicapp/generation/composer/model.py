"""The composer's network: a small decoder-only transformer over the tokens of ``tokens.py``.

Pre-LN blocks (layer norm before attention and before the MLP, which trains stably without
warm-up tricks at this size), learned positions, and causal self-attention through torch's
``scaled_dot_product_attention`` (which uses a fused kernel on CUDA and MPS where one exists).
Small on purpose: it must train on a 2-core laptop in minutes, and the attribution methods
(``attribution/tda``) take per-example gradients through all of it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class ComposerConfig:
    """The network's shape; ``vocab`` is ``tokens.VOCAB_SIZE`` for the shipped tokenizer."""

    vocab: int
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 4
    context: int = 512
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.vocab < 2 or self.context < 2 or self.n_layers < 1:
            raise ValueError(f"composer config {self}: vocab, context and n_layers too small")
        if self.d_model % self.n_heads:
            raise ValueError(f"composer config: d_model {self.d_model} is not a multiple of "
                             f"n_heads {self.n_heads}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComposerConfig:
        fields = ("vocab", "d_model", "n_layers", "n_heads", "context", "dropout")
        missing = [f for f in fields if f not in data]
        if missing:
            raise ValueError(f"composer config: missing {', '.join(missing)}")
        return cls(
            vocab=int(data["vocab"]),
            d_model=int(data["d_model"]),
            n_layers=int(data["n_layers"]),
            n_heads=int(data["n_heads"]),
            context=int(data["context"]),
            dropout=float(data["dropout"]),
        )


class _Block(nn.Module):
    """One pre-LN transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: ComposerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.n_heads = config.n_heads
        self.dropout = config.dropout
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        shape = (b, t, self.n_heads, d // self.n_heads)
        q, k, v = (z.view(shape).transpose(1, 2) for z in (q, k, v))
        att = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
        )
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(b, t, d)))
        out: Tensor = x + self.drop(self.mlp(self.ln2(x)))
        return out


class ComposerModel(nn.Module):
    """Token ids in, next-token logits out; the output layer shares the embedding's weights."""

    def __init__(self, config: ComposerConfig) -> None:
        super().__init__()
        self.config = config
        self.tok = nn.Embedding(config.vocab, config.d_model)
        self.pos = nn.Embedding(config.context, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab, bias=False)
        self.head.weight = self.tok.weight
        self.apply(self._init)
        # Residual projections scaled down with depth (GPT-2's initialisation).
        for block in self.blocks:
            assert isinstance(block, _Block)
            nn.init.normal_(block.proj.weight, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def forward(self, ids: Tensor) -> Tensor:
        """ids [B, T] (T <= context) -> logits [B, T, vocab]."""
        t = ids.shape[1]
        if t > self.config.context:
            raise ValueError(f"sequence of {t} tokens is longer than the context "
                             f"({self.config.context})")  # fmt: skip
        positions = torch.arange(t, device=ids.device)
        x = self.drop(self.tok(ids) + self.pos(positions))
        for block in self.blocks:
            x = block(x)
        logits: Tensor = self.head(self.ln_f(x))
        return logits

    def example_loss(self, ids: Tensor) -> Tensor:
        """The mean next-token negative log-likelihood of each row: [B, T] -> [B].

        Padding (token 0) is never a target, so a short example is scored on its own tokens.
        """
        logits = self(ids[:, :-1])
        targets = ids[:, 1:]
        nll = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        mask = (targets != PAD_ID).to(nll.dtype)
        return (nll * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


# tokens.pad_id(); kept here as a constant so the model needs no miditok (a test checks them).
PAD_ID = 0


@torch.no_grad()
def generate(
    model: ComposerModel,
    prompt: list[int],
    max_new: int,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    seed: int = 0,
    stop: int | None = None,
) -> list[int]:
    """The prompt followed by up to ``max_new`` sampled tokens (stopping after ``stop``, e.g.
    the EOS id, when given). The same model, prompt and seed give the same tokens on the same
    device: sampling draws from its own generator, never torch's global one. Temperature 0
    takes the most likely token each step. Only the last ``context`` tokens are attended to.
    """
    if not prompt:
        raise ValueError("generate needs a prompt of at least one token (e.g. BOS)")
    if max_new < 0:
        raise ValueError("max_new must be 0 or more")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    ids = list(prompt)
    context = model.config.context
    try:
        for _ in range(max_new):
            window = torch.tensor([ids[-context:]], dtype=torch.long, device=device)
            logits = model(window)[0, -1].float().cpu()
            if temperature <= 0:
                nxt = int(torch.argmax(logits))
            else:
                logits = logits / temperature
                if 0 < top_k < logits.numel():
                    cut = torch.topk(logits, top_k).values[-1]
                    logits = logits.masked_fill(logits < cut, float("-inf"))
                probs = torch.softmax(logits, dim=-1)
                nxt = int(torch.multinomial(probs, 1, generator=gen))
            ids.append(nxt)
            if stop is not None and nxt == stop:
                break
    finally:
        model.train(was_training)
    return ids
