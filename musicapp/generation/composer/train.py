"""Training the composer: fixed-length windows of token sequences, AdamW, reproducible.

Reproducible means the same sequences, config and spec give bit-identical weights on the same
device and torch build: the weights are initialised from ``spec.seed``, the windows are shuffled
by a generator of their own, dropout draws from a forked copy of torch's RNG (the caller's RNG
state is left as it was), and on the CPU torch is held to deterministic algorithms for the run.
GPUs are fast but not bit-reproducible across machines; the training event records the device.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from musicapp.generation.composer.model import PAD_ID, ComposerConfig, ComposerModel
from musicapp.jobs import CancelToken, Progress, ProgressCallback

STAGE = "training the composer"


@dataclass(frozen=True)
class TrainSpec:
    """How to train: epochs over the windows, batch size, peak learning rate, seed, device."""

    epochs: int
    batch: int = 16
    lr: float = 3e-4
    seed: int = 0
    device: str = "cpu"
    weight_decay: float = 0.01
    warmup_steps: int = 20
    clip: float = 1.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch < 1 or self.lr <= 0:
            raise ValueError(f"train spec {self}: epochs and batch must be 1 or more, lr > 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainLog:
    """What a run did: the loss of every step, the wall time, the number of windows."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    windows: int = 0
    steps: int = 0
    epochs_run: int = 0

    @property
    def final_loss(self) -> float:
        """The mean loss of the last epoch's steps."""
        if not self.losses:
            return float("nan")
        per_epoch = max(1, self.steps // max(1, self.epochs_run))
        tail = self.losses[-per_epoch:]
        return sum(tail) / len(tail)


def windows(sequences: list[list[int]], context: int) -> list[list[int]]:
    """Fixed-length chunks of ``context`` tokens: each sequence cut end to end, its last chunk
    taken as its last ``context`` tokens (overlapping the one before, so no token is dropped
    and nothing is padded); a sequence shorter than ``context`` is padded with PAD (never a
    target). The model reads ``context - 1`` tokens of a window and predicts the next ones."""
    if context < 2:
        raise ValueError("context must be 2 or more")
    out: list[list[int]] = []
    for seq in sequences:
        if len(seq) < 2:
            continue
        if len(seq) <= context:
            out.append(list(seq) + [PAD_ID] * (context - len(seq)))
            continue
        starts = list(range(0, len(seq) - context + 1, context))
        if starts[-1] + context < len(seq):
            starts.append(len(seq) - context)
        out.extend(list(seq[s : s + context]) for s in starts)
    return out


def train_model(
    sequences: list[list[int]],
    config: ComposerConfig,
    spec: TrainSpec,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ComposerModel:
    """A model trained on the sequences' windows (see ``train_with_log``); on the CPU."""
    return train_with_log(sequences, config, spec, progress, cancel)[0]


def train_with_log(
    sequences: list[list[int]],
    config: ComposerConfig,
    spec: TrainSpec,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> tuple[ComposerModel, TrainLog]:
    """Train a fresh model, reporting progress after every step and checking ``cancel`` before
    each one (``jobs.Cancelled`` leaves nothing behind). Returns the model, in eval mode on
    the CPU, and the log of the run."""
    data = windows(sequences, config.context)
    if not data:
        raise ValueError("nothing to train on: every sequence is shorter than 2 tokens")
    device = torch.device(spec.device)
    deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)
        try:
            return _train(data, config, spec, device, progress, cancel, on_step)
        finally:
            torch.use_deterministic_algorithms(deterministic)


def _lr_at(step: int, total: int, spec: TrainSpec) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < spec.warmup_steps:
        return spec.lr * (step + 1) / spec.warmup_steps
    done = (step - spec.warmup_steps) / max(1, total - spec.warmup_steps)
    return spec.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done))))


def _train(
    data: list[list[int]],
    config: ComposerConfig,
    spec: TrainSpec,
    device: torch.device,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    on_step: Callable[[int, float], None] | None,
) -> tuple[ComposerModel, TrainLog]:
    model = ComposerModel(config)  # initialised from the seed just set
    model.to(device)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": spec.weight_decay},
            {"params": other, "weight_decay": 0},
        ],
        lr=spec.lr,
        betas=(0.9, 0.95),
    )
    shuffler = torch.Generator().manual_seed(spec.seed)
    all_ids = torch.tensor(data, dtype=torch.long)
    per_epoch = math.ceil(len(data) / spec.batch)
    total = per_epoch * spec.epochs
    log = TrainLog(windows=len(data))
    started = time.monotonic()
    step = 0
    for epoch in range(spec.epochs):
        order = torch.randperm(len(data), generator=shuffler)
        for i in range(per_epoch):
            if cancel is not None:
                cancel.check()
            batch = all_ids[order[i * spec.batch : (i + 1) * spec.batch]].to(device)
            for group in opt.param_groups:
                group["lr"] = _lr_at(step, total, spec)
            loss = model.example_loss(batch).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), spec.clip)
            opt.step()
            value = float(loss.detach().cpu())
            log.losses.append(value)
            step += 1
            if on_step is not None:
                on_step(step, value)
            if progress is not None:
                progress(Progress(step / total, STAGE,
                                  f"epoch {epoch + 1}/{spec.epochs}, step {step}/{total}, "
                                  f"loss {value:.3f}"))  # fmt: skip
        log.epochs_run = epoch + 1
    log.steps = step
    log.seconds = time.monotonic() - started
    model.to("cpu")
    model.eval()
    return model, log
