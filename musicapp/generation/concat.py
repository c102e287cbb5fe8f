"""The concat engine: new music cut from bars of the references themselves, with exact shares."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from musicapp.core import GenerationRequest, InvalidInput, Level, Role
from musicapp.generation.bars import fade_ends, render_bar
from musicapp.generation.base import (
    ENGINE_LABELS,
    Conditioning,
    GenerationResult,
    check_conditioning,
    number_option,
)
from musicapp.generation.form import Choice, Form, build_form, layer_chroma, plan_layer
from musicapp.generation.layers import (
    LAYER_ORDER,
    Layer,
    Source,
    align_keys,
    analyse_material,
    covered_roles,
    layer_of,
    make_source,
)
from musicapp.generation.levels import (
    JoinLeveller,
    accent_db,
    balance,
    bar_level,
    share_notes,
)
from musicapp.generation.rerender import check_user_request, plan_user, render_user, user_mode
from musicapp.generation.tempo import choose_tempo
from musicapp.generation.tracks import Tracks, provenance
from musicapp.jobs import CancelToken, Progress, ProgressCallback

CROSSFADE_S = 0.03  # long enough to hide a join, short enough not to blur the downbeat after it
FADE_IN_S = 0.005
MAX_FADE_OUT_S = 2.0
LAYER_RMS = 0.1  # level of a full-weight layer before the final gain
PEAK_DBFS = -1.0
ANALYSIS_SHARE = 0.1  # of the progress bar
RENDER_CACHE = 48  # rendered bars kept for repeats: about 30 MB at 120 BPM


@dataclass
class Plan:
    """Everything decided before a sample is rendered."""

    sample_rate: int
    n_samples: int
    tempo_bpm: float
    beats_per_bar: int
    bounds: npt.NDArray[Any]  # output bar boundaries in samples (n_bars + 1)
    form: Form
    layers: list[Layer]
    choices: list[list[Choice]]  # per layer, per output bar
    notes: tuple[str, ...] = ()  # for the take's record: the tempo chosen, far stretches

    @property
    def n_bars(self) -> int:
        return len(self.bounds) - 1


class ConcatEngine:
    """Cuts the references into bars, re-orders them into a small form at one tempo, joins them.

    Song-level references take turns bar by bar; parameter-level ones each build a layer (melody,
    harmony, rhythm, sound palette) from their own stems, and the layers sound together. Every
    output sample comes from a known reference, so the shares are measured, not estimated.

    Audio- and temporal-level references edit the user's own audio instead (`rerender.py`): the
    user's bars are the structure, each re-rendered from a reference bar that matches its chroma
    and loudness; at temporal level only `request.user_range` is, spliced back with equal-power
    crossfades inside the range, the rest left sample for sample. The output is as long as the
    user's audio (`request.duration_s` is ignored) and the timeline names the user's own audio
    USER_SOURCE where it sounds. They cannot be mixed with song- or parameter-level references;
    user audio without them is refused.

    Request options: "tempo" (BPM) overrides the weighted median of the references' tempi;
    "key_align" = "off" leaves every reference in its own key; "blend" (0-1, default 0) mixes
    that much of the user's own audio back into what is re-rendered (audio and temporal levels).
    """

    name = "concat"
    label = ENGINE_LABELS["concat"]
    levels = frozenset(Level)
    roles = frozenset(Role)
    needs_weights = False

    def check_request(self, request: GenerationRequest) -> None:
        """Raise InvalidInput if this engine cannot make the request (before any audio loads)."""
        check_user_request(request, bool(request.user_audio))

    def generate(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        if user_mode(request, conditioning):
            check_conditioning(self, request, conditioning)
            user_plan = plan_user(request, conditioning, progress, cancel)
            audio, prov = render_user(user_plan, conditioning, self.name, progress, cancel)
            return GenerationResult(audio, conditioning.sample_rate, prov)
        plan = self.plan(request, conditioning, progress, cancel)
        return self.render(plan, request, conditioning, progress, cancel)

    def plan(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> Plan:
        """Analyse the references and decide which bar of which reference plays where."""
        if user_mode(request, conditioning):
            raise InvalidInput("audio- and temporal-level requests are planned by plan_user")
        check_conditioning(self, request, conditioning)
        sr = conditioning.sample_rate
        materials = conditioning.materials
        rng = np.random.default_rng(request.seed)

        analyses = []
        for i, mat in enumerate(materials):
            cancel.check()
            message = f"analysing {mat.song.title}"
            progress(Progress(ANALYSIS_SHARE * i / len(materials), "generate", message))
            analyses.append(analyse_material(mat))
        tempo, notes = choose_tempo(
            [a.tempo_bpm for a in analyses],
            [m.reference.weight for m in materials],
            [m.song.title for m in materials],
            number_option(request, "tempo", 30, 300, None),
        )

        # The heaviest reference sets the meter (and, below, the key).
        anchor = max(materials, key=lambda m: (m.reference.weight, -m.index))
        meter = analyses[anchor.index].beats_per_bar
        covered = covered_roles(materials)
        grouped: dict[str, list[Source]] = {}
        for mat, analysis in zip(materials, analyses, strict=True):
            cancel.check()
            name = layer_of(mat)
            source = make_source(mat, name, covered, analysis, tempo, meter)
            grouped.setdefault(name, []).append(source)
        layers = [
            Layer(name, grouped[name], sum(s.material.reference.weight for s in grouped[name]))
            for name in LAYER_ORDER
            if name in grouped
        ]
        if request.options.get("key_align", "on") != "off":
            align_keys(layers, [a.pitch_profile for a in analyses], anchor.index)

        n_samples = int(round(request.duration_s * sr))
        bar_len = meter * 60.0 / tempo * sr
        n_bars = max(1, int(np.ceil(n_samples / bar_len)))
        bounds = np.round(np.arange(n_bars + 1) * bar_len).astype(np.int64)
        form = build_form(n_bars)
        choices = []
        harmony = np.zeros((n_bars, 12))
        for layer in layers:
            picked = plan_layer(layer, form, rng, harmony if np.any(harmony) else None)
            harmony += layer_chroma(layer, picked)
            choices.append(picked)
        return Plan(sr, n_samples, tempo, meter, bounds, form, layers, choices, notes)

    def render(
        self,
        plan: Plan,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        """Stretch, level and join the planned bars into one track per reference, then mix."""
        sr = plan.sample_rate
        n_refs = len(conditioning.materials)
        envelope = _envelope(plan.n_samples, sr)
        tracks = Tracks(n_refs, plan.n_samples, sr, envelope)
        xf = int(round(CROSSFADE_S * sr))
        total_weight = sum(layer.weight for layer in plan.layers)
        gains = [LAYER_RMS * np.sqrt(layer.weight / total_weight) for layer in plan.layers]
        weights = [m.reference.weight for m in conditioning.materials]
        shares = balance(_planned_energy(plan, gains, envelope, n_refs), weights)
        joins = JoinLeveller(sr)
        accents = {
            (li, i): accent_db(src.audio, src.bars, sr)
            for li, layer in enumerate(plan.layers)
            for i, src in enumerate(layer.sources)
        }
        # The form repeats bars (A returns); keep recent renders rather than stretch them again.
        cache: OrderedDict[tuple[int, int, int, int, int], tuple[npt.NDArray[Any], int]] = (
            OrderedDict()
        )
        for k in range(plan.n_bars):
            cancel.check()
            start, end = int(plan.bounds[k]), int(plan.bounds[k + 1])
            for li, (layer, picked) in enumerate(zip(plan.layers, plan.choices, strict=True)):
                choice = picked[k]
                src = layer.sources[choice.source]
                natural_in = k > 0 and _follows(picked[k - 1], choice)
                natural_out = k + 1 < plan.n_bars and _follows(choice, picked[k + 1])
                pre = xf if k > 0 else 0
                key = (li, choice.source, choice.bar, end - start, pre)
                if key not in cache:
                    cache[key] = render_bar(src, choice.bar, end - start, pre)
                    if len(cache) > RENDER_CACHE:
                        cache.popitem(last=False)
                cache.move_to_end(key)
                seg, keep = cache[key]
                level = bar_level(src.features.rms, src.typical_rms, choice.bar)
                seg = seg * (gains[li] * shares.gains[src.material.index] / level)
                if k > 0:
                    step = None
                    if not natural_in:
                        step = accents[(li, choice.source)]
                    joins.level(li, seg, pre, step, (end - start) // 2)
                fade_out = xf if k + 1 < plan.n_bars else 0
                joins.ended(li, seg, min(keep, pre + end - start) - fade_out)
                fade_ends(seg, pre, fade_out, keep, natural_in, natural_out)
                if seg.shape[0] == 1:
                    seg = np.repeat(seg, 2, axis=0)
                tracks.add(src.material.index, start - pre, seg)
            tracks.flush(end - xf)
            fraction = ANALYSIS_SHARE + (1 - ANALYSIS_SHARE) * 0.99 * (k + 1) / plan.n_bars
            progress(Progress(fraction, "generate", f"bar {k + 1}/{plan.n_bars}"))
        audio = tracks.finish()
        peak = float(np.max(np.abs(audio)))
        if peak > 0:
            audio *= np.float32(10 ** (PEAK_DBFS / 20) / peak)
        prov = provenance(tracks, [m.song.id for m in conditioning.materials], self.name)
        names = [m.song.title for m in conditioning.materials]
        got = [s.share for s in prov.shares]
        notes = share_notes(got, weights, names, shares, plan.n_bars)
        prov = replace(prov, notes=plan.notes + notes)
        progress(Progress(1.0, "generate", "done"))
        return GenerationResult(audio=audio, sample_rate=sr, provenance=prov)


def _follows(a: Choice, b: Choice) -> bool:
    return a.source == b.source and b.bar == a.bar + 1


def _planned_energy(
    plan: Plan, gains: list[float], envelope: npt.NDArray[Any], n_refs: int
) -> npt.NDArray[Any]:
    """The energy each reference will contribute, from the plan alone: per bar its level after
    matching, times the bar's length under the fade envelope."""
    energy = np.zeros(n_refs)
    starts = np.minimum(plan.bounds[:-1], len(envelope) - 1)
    weight = np.add.reduceat(envelope.astype(np.float64) ** 2, starts)
    for li, (layer, picked) in enumerate(zip(plan.layers, plan.choices, strict=True)):
        for k, choice in enumerate(picked):
            src = layer.sources[choice.source]
            level = bar_level(src.features.rms, src.typical_rms, choice.bar)
            out_rms = gains[li] * src.features.rms[choice.bar] / level
            energy[src.material.index] += out_rms**2 * weight[k]
    return energy


def _envelope(n: int, sr: int) -> npt.NDArray[Any]:
    """A short fade-in against a click at the start and a fade-out over the end of the last bar."""
    env = np.ones(n, dtype=np.float32)
    fin = min(int(FADE_IN_S * sr), n)
    env[:fin] = np.linspace(0.0, 1.0, fin, endpoint=False)
    fout = min(int(MAX_FADE_OUT_S * sr), n // 10)
    if fout:
        env[n - fout :] *= np.cos(0.5 * np.pi * (np.arange(fout) + 0.5) / fout) ** 2
    return env
