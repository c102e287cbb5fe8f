"""The concat engine's plan: a small musical form, which reference plays each bar, which bar."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicapp.core import allocate
from musicapp.generation.layers import Layer

PHRASE_BARS = 4

# Costs of a candidate bar; the lowest total wins. Harmony counts most: a bar that starts on the
# chord the last one ended on, and agrees with what the other layers play, joins unnoticed.
CONTINUITY = 1.0
AGREEMENT = 1.0
TIMBRE = 0.3
REUSE = 0.6
IN_ORDER = 0.5  # taking the source's very next bar: fine now and then, not as a rule
OFF_PHRASE = 0.1  # units that start on an odd bar of the source cut its two-bar phrases
CHANCE = 0.35
SAME_AGAIN = 2.5  # in bars: a source rather hands over to another than plays two units running


@dataclass(frozen=True)
class Choice:
    """The bar of one source that one layer plays in one output bar."""

    source: int  # index into the layer's sources
    bar: int


@dataclass(frozen=True)
class Form:
    """Phrase labels (A, A', B, ...) and, per output bar, the earlier bar it repeats or varies."""

    labels: tuple[str, ...]
    copy_of: tuple[int | None, ...]  # the bar whose choice is repeated exactly
    varies: tuple[int | None, ...]  # the bar this one answers differently


def phrase_labels(n_phrases: int) -> list[str]:
    """A A' B A, then C C' B A, D D' B A, ...: a statement, its variation, a contrast, a return."""
    out: list[str] = []
    letters = iter("CDEFGHIJKLMNOPQRSTUVWXYZ")
    while len(out) < n_phrases:
        head = "A" if not out else next(letters, "Z")
        out += [head, head + "'", "B", "A"]
    return out[:n_phrases]


def build_form(n_bars: int) -> Form:
    """The form of `n_bars` output bars in phrases of four (the last one may be cut short)."""
    labels = phrase_labels(-(-n_bars // PHRASE_BARS))
    first: dict[str, int] = {}
    copy_of: list[int | None] = []
    varies: list[int | None] = []
    for k, label in enumerate(labels):
        base = label.rstrip("'")
        for j in range(PHRASE_BARS):
            t = k * PHRASE_BARS + j
            if t >= n_bars:
                break
            if label in first and label == base:
                copy_of.append(first[label] + j)
                varies.append(None)
            elif label != base and base in first:
                # A variation keeps the first half of its phrase and answers it differently.
                half = j < PHRASE_BARS // 2
                copy_of.append(first[base] + j if half else None)
                varies.append(None if half else first[base] + j)
            else:
                copy_of.append(None)
                varies.append(None)
        first.setdefault(label, k * PHRASE_BARS)
    return Form(tuple(labels), tuple(copy_of), tuple(varies))


def _cos_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    sim = (a * b).sum(axis=-1) / np.maximum(na * nb, 1e-9)
    return np.where((na > 1e-9) & (nb > 1e-9), 1.0 - sim, 0.5)


def _units(form: Form, unit: int) -> list[list[int]]:
    """Groups of up to `unit` consecutive output bars that are decided together (not copies)."""
    units: list[list[int]] = []
    for t, copied in enumerate(form.copy_of):
        if copied is not None:
            continue
        last = units[-1] if units else None
        if last and len(last) < unit and last[-1] == t - 1 and t % unit != 0:
            last.append(t)
        else:
            units.append([t])
    return units


def _pick_source(
    target: np.ndarray,
    given: np.ndarray,
    span: float,
    prev: int | None,
    must: np.ndarray,
    rng: np.random.Generator,
) -> int:
    """The source whose bar count gets closest to its allocation by taking `span` bars."""
    left = target - given
    gain = np.abs(left) - np.abs(left - span)
    if prev is not None and len(target) > 1:
        gain = gain - SAME_AGAIN * (np.arange(len(target)) == prev)
    # Ties go to the heavier reference, then to chance (seeded).
    gain = gain + 0.01 * target / max(target.max(), 1.0) + 0.001 * rng.random(len(target))
    if must.any():
        gain = np.where(must, gain, -np.inf)
    return int(np.argmax(gain))


def plan_layer(
    layer: Layer,
    form: Form,
    rng: np.random.Generator,
    harmony: np.ndarray | None,
) -> list[Choice]:
    """Choose a (source, bar) for every output bar of one layer.

    Sources take turns in proportion to their weights (core.allocate) in units of one or two
    bars; a unit's first bar is the one that best continues the previous bar and agrees with
    the chord the other layers play there (`harmony`, (n_bars, 12)), with some chance in it.
    """
    n_bars = len(form.copy_of)
    n_src = len(layer.sources)
    unit = 2 if n_bars >= 4 * n_src and n_bars >= 4 else 1
    weights = [s.material.reference.weight for s in layer.sources]
    target = np.array(allocate(weights, n_bars), dtype=float)
    # How many output bars each decided bar stands for: itself and the later bars repeating it.
    reach = np.ones(n_bars)
    for t in range(n_bars - 1, -1, -1):
        if form.copy_of[t] is not None:
            reach[form.copy_of[t]] += reach[t]
    units = _units(form, unit)
    unit_of = {t: u for u, members in enumerate(units) for t in members}
    given = np.zeros(n_src)
    uses = [np.zeros(s.n_bars) for s in layer.sources]
    choices: list[Choice] = []
    for t in range(n_bars):
        copied = form.copy_of[t]
        prev = choices[-1] if choices else None
        if copied is not None:
            choice = choices[copied]
        elif units[unit_of[t]][0] == t:
            members = units[unit_of[t]]
            # Every reference the user picked is heard, however small its weight.
            unheard = given == 0
            must = unheard if unheard.sum() >= len(units) - unit_of[t] else np.zeros(n_src, bool)
            span = float(reach[members].sum())
            src = _pick_source(target, given, span, prev.source if prev else None, must, rng)
            given[src] += span
            answers = form.varies[t]
            avoid = choices[answers].bar if answers is not None else None
            choice = Choice(src, _best_bar(layer, src, prev, t, uses[src], harmony, rng, avoid))
        else:
            assert prev is not None  # a unit's later bar follows its first
            bar = _next_bar(layer, prev.source, prev.bar)
            if bar is None:
                bar = _best_bar(layer, prev.source, prev, t, uses[prev.source], harmony, rng)
            choice = Choice(prev.source, bar)
        uses[choice.source][choice.bar] += 1
        choices.append(choice)
    return choices


def _next_bar(layer: Layer, src: int, bar: int) -> int | None:
    """The source's following bar, if it is usable: a two-bar unit plays on naturally."""
    nxt = bar + 1
    return nxt if nxt in set(layer.sources[src].usable.tolist()) else None


def _best_bar(
    layer: Layer,
    src: int,
    prev: Choice | None,
    t: int,
    uses: np.ndarray,
    harmony: np.ndarray | None,
    rng: np.random.Generator,
    avoid: int | None = None,
) -> int:
    source = layer.sources[src]
    cand = source.usable
    f = source.features
    cost = REUSE * uses[cand]
    if avoid is not None:  # a variation answers its phrase with a different bar
        cost = cost + REUSE * (cand == avoid)
    cost = cost + OFF_PHRASE * (cand % 2)
    if prev is not None:
        pf = layer.sources[prev.source].features
        cost = cost + CONTINUITY * _cos_dist(pf.chroma_end[prev.bar], f.chroma_start[cand])
        if prev.source == src:
            spread = np.std(f.timbre[cand], axis=0).sum() + 1e-9
            dist = np.abs(f.timbre[cand] - f.timbre[prev.bar]).sum(axis=1) / spread
            cost = cost + TIMBRE * np.minimum(dist, 3.0) / 3.0
            cost = cost + IN_ORDER * (cand == prev.bar + 1) + REUSE * (cand == prev.bar)
    else:
        # Open on a bar at the source's usual level, not on a quiet intro.
        level = f.rms[cand] / max(source.typical_rms, 1e-9)
        cost = cost + 0.5 * np.clip(1.0 - level, 0.0, 1.0)
    if harmony is not None and layer.pitched and np.any(harmony[t]):
        cost = cost + AGREEMENT * _cos_dist(harmony[t][None, :], f.chroma_mean[cand])
    cost = cost + CHANCE * rng.random(len(cand))
    return int(cand[int(np.argmin(cost))])


def layer_chroma(layer: Layer, choices: list[Choice]) -> np.ndarray:
    """What a planned layer plays, as chroma per output bar (zeros for an unpitched layer)."""
    out = np.zeros((len(choices), 12))
    if not layer.pitched:
        return out
    for t, c in enumerate(choices):
        src = layer.sources[c.source]
        if src.pitched:
            out[t] = src.features.chroma_mean[c.bar] * src.features.rms[c.bar]
    return out
