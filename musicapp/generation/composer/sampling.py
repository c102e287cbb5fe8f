"""Sampling that keeps to REMI's grammar: whatever the model prefers, the stream stays music.

A small model, trained here in minutes, puts most of its weight on the right kind of token but
not always: a position earlier than the last one in the same bar (miditok then stacks the notes
on top of each other), a pitch without a velocity, an instrument no reference plays. Each step
the logits of every token that cannot come next are masked before sampling:

    Bar -> TimeSig | Position;  TimeSig -> Position;  Position -> Tempo | Program
    Tempo -> Program;  Program -> Pitch (PitchDrum after the drum program);  Pitch -> Velocity
    Velocity -> Duration;  Duration -> Program | a later Position in the bar | Bar

Positions are kept inside the bar's length (the meter's quarters × the tokenizer's 8 a beat),
programs to those the prompt (the references) uses, and BOS, PAD and EOS are never drawn: the
engine asks for so many bars and stops there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

from musicapp.generation.composer import tokens

POSITIONS_PER_QUARTER = 8  # the tokenizer's beat resolution for the first four beats
MAX_STACK = 5  # notes starting at one position: a chord of the references' four parts and one


@dataclass(frozen=True)
class Vocab:
    kind: tuple[str, ...]  # per id: "Bar", "Position", "Program", ...
    value: tuple[int, ...]  # per id: a Position's or Program's number, else 0


def self_name(i: int) -> str:
    return str(tokens.tokenizer()[i])


@lru_cache(maxsize=1)
def vocab() -> Vocab:
    tok = tokens.tokenizer()
    kinds, values = [], []
    for i in range(len(tok)):
        name = str(tok[i])
        kind, _, rest = name.partition("_")
        kinds.append(kind)
        try:
            values.append(int(rest) if kind in ("Position", "Program") else 0)
        except ValueError:
            values.append(0)
    return Vocab(tuple(kinds), tuple(values))


_NEXT = {
    "BOS": {"Bar"},
    "Bar": {"TimeSig", "Position"},
    "TimeSig": {"Position"},
    "Position": {"Tempo", "Program"},
    "Tempo": {"Program"},
    "Program": {"Pitch"},
    "Pitch": {"Velocity"},
    "PitchDrum": {"Velocity"},
    "Velocity": {"Duration"},
    "Duration": {"Program", "Position", "Bar"},
}


class Grammar:
    """The masks, built once per take for its meter and its programs."""

    def __init__(self, programs: set[int], bar_quarters: float, meter: str = "") -> None:
        v = vocab()
        n = len(v.kind)
        self.v = v
        self.positions = max(1, round(bar_quarters * POSITIONS_PER_QUARTER))
        self.by_kind: dict[str, torch.Tensor] = {}
        for kind in {*v.kind}:
            mask = torch.zeros(n, dtype=torch.bool)
            for i, k in enumerate(v.kind):
                if k == kind:
                    if kind == "Program" and programs and v.value[i] not in programs:
                        continue
                    if kind == "Position" and v.value[i] >= self.positions:
                        continue
                    if kind == "TimeSig" and meter and self_name(i) != f"TimeSig_{meter}":
                        continue
                    mask[i] = True
            self.by_kind[kind] = mask
        self.position_value = torch.tensor(v.value) * torch.tensor(
            [k == "Position" for k in v.kind]
        )
        self.is_position = self.by_kind["Position"]

    def allowed(
        self, last: int, position: int, program: int | None, stacked: int = 0
    ) -> torch.Tensor:
        """What may follow token ``last`` in a bar whose latest position is ``position``, with
        ``stacked`` notes already starting there."""
        kind = self.v.kind[last]
        mask = torch.zeros_like(self.is_position)
        for nxt in _NEXT.get(kind, {"Bar"}):
            if nxt == "Pitch" and program == -1:
                nxt = "PitchDrum"
            mask |= self.by_kind.get(nxt, mask)
        if kind in ("Duration", "Bar", "TimeSig"):
            later = self.is_position & (self.position_value > position)
            if kind != "Duration":
                later = self.is_position.clone()
            mask = (mask & ~self.is_position) | (mask & later)
        if kind == "Duration" and stacked >= MAX_STACK:
            mask &= ~self.by_kind["Program"]
        if not bool(mask.any()):
            mask = self.by_kind["Bar"].clone()
        return mask


@torch.no_grad()
def sample_bars(
    model: Any,
    prompt: list[int],
    bars: int,
    grammar: Grammar,
    *,
    temperature: float,
    top_k: int,
    seed: int,
    max_tokens: int,
    cancel: Any = None,
) -> list[int]:
    """The prompt followed by sampled tokens until ``bars`` new bars have begun (or
    ``max_tokens`` were drawn); the same model, prompt and seed give the same tokens."""
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    context = int(model.config.context)
    v = grammar.v
    ids = list(prompt)
    position, program, started, stacked = -1, None, 0, 0
    for t in ids:  # the state at the prompt's end
        position, program, stacked = _advance(v, t, position, program, stacked)
    bar_id = v.kind.index("Bar")
    while started < bars and len(ids) - len(prompt) < max_tokens:
        if cancel is not None and len(ids) % 32 == 0:
            cancel.check()
        window = torch.tensor([ids[-context:]], dtype=torch.long, device=device)
        logits = model(window)[0, -1].float().cpu()
        allowed = grammar.allowed(ids[-1], position, program, stacked)
        logits = logits.masked_fill(~allowed, float("-inf"))
        if temperature <= 0:
            nxt = int(torch.argmax(logits))
        else:
            logits = logits / temperature
            finite = int(torch.isfinite(logits).sum())
            if 0 < top_k < finite:
                cut = torch.topk(logits, top_k).values[-1]
                logits = logits.masked_fill(logits < cut, float("-inf"))
            nxt = int(torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen))
        ids.append(nxt)
        position, program, stacked = _advance(v, nxt, position, program, stacked)
        if nxt == bar_id:
            started += 1
    return ids


def _advance(
    v: Vocab, token: int, position: int, program: int | None, stacked: int
) -> tuple[int, int | None, int]:
    """(position in the bar, current program, notes started at that position) after ``token``."""
    kind = v.kind[token]
    if kind == "Bar":
        return -1, program, 0
    if kind == "Position":
        return v.value[token], program, 0
    if kind == "Program":
        return position, v.value[token], stacked
    if kind in ("Pitch", "PitchDrum"):
        return position, program, stacked + 1
    return position, program, stacked
