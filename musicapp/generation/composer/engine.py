"""The composing engine: new notes from a model trained here on consented scores, played with
the references' instruments.

A reference's score (``catalog/scores.py``; a recording without one is transcribed first,
``transcribe.py``) gives the composer its key, meter, tempo, instruments and melody
(``conditioning.py``). The model (``model.py``, trained by ``musicapp train``) continues a
prompt made of the references' own bars, moved to one key and one tempo, and only the
continuation is kept: the output starts where the references stop.

- **Song level**: the prompt is the references' opening bars, the heavier a reference the more of
  its bars; key and meter from the heaviest, tempo their weighted mean; every role played with
  the heaviest reference's instrument for it.
- **Parameter level**: a melody-role reference's melody line is the prompt (transposed to the
  key a harmony-role reference gives, if any); a rhythm-role reference gives the meter, tempo
  and drum kit, a harmony-role one the harmony instrument, a timbre- or instrument-role one the
  instruments of every role it has.
- **Temporal level**: the user's range is composed anew (from the references' bars in their own
  ranges, as at song level) and spliced into the user's audio; the rest stays the user's.

Provenance by design: the references' shares are their weights (the model was conditioned on
nothing else), the user's share at temporal level is the part of the take left as it was. The
model itself is credited by name (``model``) and by its training set: each take is attributed
to the training songs by TRAK and unlearning (``attribution/tda/take.py``) before it is
logged, so ``provenance.training`` holds both methods' top items and the estimate the training
pool can be paid by (``provenance.training_attribution``, read by the royalties).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musicapp.core import (
    USER_INDEX,
    USER_SOURCE,
    GenerationRequest,
    InvalidInput,
    Level,
    Provenance,
    Role,
    SourceShare,
    TimelineSlot,
)
from musicapp.generation.base import (
    ENGINE_LABELS,
    Conditioning,
    GenerationResult,
    Material,
    check_conditioning,
)
from musicapp.generation.composer.conditioning import ReferenceFeatures, features_of
from musicapp.jobs import CancelToken, Progress, ProgressCallback, scaled

if TYPE_CHECKING:
    from symusic.core import ScoreTick

MAX_DURATION_S = 120.0
SPLICE_S = 0.05
# Prompt bars: the heaviest reference gives this many, the others fewer by their weight.
PROMPT_BARS = 2
MAX_TOKENS = 4096  # a take never samples more than this, whatever the density
TEMPERATURE = 0.95
TOP_K = 40


@dataclass(frozen=True)
class Reference:
    """One reference as the composer uses it."""

    material: Material
    score: ScoreTick
    features: ReferenceFeatures
    weight: float
    transcribed: bool


def _default_loader(models_dir: Path | None, device: str) -> Any:
    """The shipped model (``weights.py`` checks its sha256), on ``device``."""
    from musicapp.generation.composer.weights import load_composer

    loaded = load_composer(models_dir)
    loaded.model.to(device)
    return loaded


class ComposerEngine:
    """The ``composer`` engine (see the module docstring)."""

    name = "composer"
    label = ENGINE_LABELS["composer"]
    levels = frozenset({Level.SONG, Level.PARAMETER, Level.TEMPORAL})
    roles = frozenset({Role.MELODY, Role.HARMONY, Role.RHYTHM, Role.TIMBRE, Role.INSTRUMENT})
    needs_weights = False  # its weights ship with the app (models/composer)

    def __init__(
        self,
        audio_dir: Path,
        models_dir: Path | None = None,
        device: str = "auto",
        loader: Callable[[Path | None, str], Any] = _default_loader,
        attribution_dir: Path | None = None,
    ) -> None:
        """``attribution_dir``: where training-data attribution keeps each model's training
        side (``attribution/tda/take.py``); None: takes are not attributed to training songs."""
        self.audio_dir = Path(audio_dir)
        self.attribution_dir = attribution_dir
        self._attributor: Any = None
        self.models_dir = models_dir
        self.device = device
        self._loader = loader
        self._loaded: Any = None

    def loaded(self) -> Any:
        """The model with its id and training set, loaded (and checked) on first use."""
        if self._loaded is None:
            from musicapp.generation.device import choose_device

            self.device = choose_device(self.device)  # "auto" -> cuda, mps or cpu
            self._loaded = self._loader(self.models_dir, self.device)
        return self._loaded

    def check_request(self, request: GenerationRequest) -> None:
        if request.duration_s > MAX_DURATION_S:
            raise InvalidInput(
                f"duration: the composer writes up to {MAX_DURATION_S:g} s, not "
                f"{request.duration_s:g} s"
            )
        levels = {r.level for r in request.references}
        if Level.TEMPORAL in levels and levels != {Level.TEMPORAL}:
            raise InvalidInput(
                "references: temporal-level references cannot be combined with song- or "
                "parameter-level ones in one request"
            )
        if Level.TEMPORAL in levels and request.user_range is None:
            raise InvalidInput("user range: a temporal-level reference needs a range of your audio")

    def generate(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        return self.compose(request, conditioning, progress, cancel).result

    def compose(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> Composition:
        """The take, and what went into it: the composed score (the continuation alone), the
        references as read, the plan (``benchmarks/composer.py`` measures and draws them)."""
        self.check_request(request)
        check_conditioning(self, request, conditioning)
        temporal = any(r.level is Level.TEMPORAL for r in request.references)
        if temporal and conditioning.user_audio is None:
            raise InvalidInput("user audio: a temporal-level reference needs your audio")
        progress(Progress(0.05, "read", "Reading the references' scores"))
        refs = [self._reference(m) for m in conditioning.materials]
        cancel.check()
        loaded = self.loaded()
        plan = _plan(refs, request)
        rate = conditioning.sample_rate
        start_s = 0.0
        if temporal:
            assert request.user_range is not None
            start_s = request.user_range.start_s
            length_s = request.user_range.end_s - start_s
        else:
            length_s = request.duration_s
        progress(Progress(0.15, "compose", f"Composing {length_s:.0f} s"))
        score = _compose(loaded.model, plan, length_s, request.seed, cancel)
        progress(Progress(0.7, "render", "Playing it with the references' instruments"))
        audio = _render(score, plan, length_s, rate)
        user_share = 0.0
        if temporal:
            assert conditioning.user_audio is not None
            audio, user_share = _splice(conditioning.user_audio, audio, start_s, rate)
        shares, timeline = _provenance(refs, audio.shape[1] / rate, user_share, request)
        training, notes = self._attribute(loaded, score, scaled(progress, 0.75, 0.99), cancel)
        progress(Progress(1.0, "done", "Composed"))
        provenance = Provenance(
            shares=shares,
            timeline=timeline,
            engine=self.name,
            model=str(loaded.model_id),
            device=self.device,
            method="symbolic transformer continuing the references' bars",
            notes=plan.notes + notes,
            training=training,
        )
        result = GenerationResult(audio.astype(np.float32), rate, provenance)
        return Composition(result, score, tuple(refs), plan)

    def _attribute(
        self, loaded: Any, score: ScoreTick, progress: ProgressCallback, cancel: CancelToken
    ) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
        """The take's training-data attribution for its provenance, or None with a note
        saying why there is none (a model folder without its training tokens, say)."""
        if self.attribution_dir is None:
            return None, ()
        from musicapp.attribution.tda.take import TakeAttributor
        from musicapp.generation.composer import tokens

        if self._attributor is None or self._attributor.loaded is not loaded:
            self._attributor = TakeAttributor(loaded, self.attribution_dir)
        try:
            found = self._attributor.attribute(tokens.encode(score), progress, cancel)
        except InvalidInput as exc:
            return None, (f"No training-data attribution for this take: {exc}",)
        return found.to_dict(), ()

    def _reference(self, mat: Material) -> Reference:
        from musicapp.catalog.scores import score_of

        score = score_of(mat.song, self.audio_dir)
        transcribed = score is None
        if score is None:
            from musicapp.generation.composer.transcribe import transcribe

            score = transcribe(mat.mix, mat.sample_rate).score(mat.tempo_bpm or 120.0)
        if score.note_num() == 0:
            raise InvalidInput(f"reference {mat.song.id}: its score has no notes to go on")
        return Reference(
            mat,
            score,
            features_of(score, mat.song.stems),
            float(mat.reference.weight),
            transcribed,
        )


# -- the plan: key, meter, tempo, prompt bars, instruments -------------------------------------


@dataclass(frozen=True)
class Plan:
    tonic: int
    meter: tuple[int, int]
    tempo_qpm: float
    prompts: tuple[tuple[Reference, int, bool], ...]  # (reference, bars, melody line only)
    instruments: dict[str, int]  # role -> GM program
    programs: frozenset[int]  # what the references play (the drum kit as -1): all it may write
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Composition:
    """A composer take with what it was made from."""

    result: GenerationResult
    score: ScoreTick  # the composed continuation, before rendering
    references: tuple[Reference, ...]
    plan: Plan


def _role(ref: Reference) -> Role | None:
    return ref.material.reference.role


def _plan(refs: Sequence[Reference], request: GenerationRequest) -> Plan:
    by_weight = sorted(refs, key=lambda r: -r.weight)
    heaviest = by_weight[0]
    melody = next((r for r in by_weight if _role(r) is Role.MELODY), None)
    harmony = next((r for r in by_weight if _role(r) is Role.HARMONY), None)
    rhythm = next((r for r in by_weight if _role(r) is Role.RHYTHM), None)
    key_ref = harmony or melody or heaviest
    meter_ref = rhythm or melody or heaviest
    total = sum(r.weight for r in refs) or 1.0
    if rhythm is not None:
        tempo = rhythm.features.tempo_qpm
    else:
        tempo = sum(r.features.tempo_qpm * r.weight for r in refs) / total
    prompts: list[tuple[Reference, int, bool]] = []
    if melody is not None:
        prompts.append((melody, PROMPT_BARS, True))
    else:
        for r in by_weight:
            bars = max(1, round(PROMPT_BARS * r.weight / heaviest.weight))
            prompts.append((r, bars, False))
    instruments: dict[str, int] = {}
    for r in reversed(by_weight):  # the heaviest wins
        for part in r.features.parts:
            instruments[part.role] = part.program
    for giver, role in ((melody, "melody"), (harmony, "harmony"), (rhythm, "drums")):
        program = giver.features.program_of(role) if giver is not None else None
        if program is not None:
            instruments[role] = program
    for r in by_weight:
        if _role(r) in (Role.TIMBRE, Role.INSTRUMENT):
            for part in r.features.parts:
                instruments[part.role] = part.program
    notes = [
        f"key {key_ref.features.key.name} from {key_ref.material.song.id}, meter "
        f"{meter_ref.features.meter[0]}/{meter_ref.features.meter[1]}, {tempo:.0f} bpm"
    ]
    notes += [
        f"{r.material.song.id}: no score, its melody was transcribed from the recording"
        for r in refs
        if r.transcribed
    ]
    programs = frozenset(-1 if p.is_drum else p.program for r in refs for p in r.features.parts)
    return Plan(
        key_ref.features.key.tonic,
        meter_ref.features.meter,
        float(tempo),
        tuple(prompts),
        instruments,
        programs,
        tuple(notes),
    )


def _shift(tonic: int, target: int) -> int:
    """The smallest transposition (-6..+5 semitones) from one tonic to another."""
    return (target - tonic + 6) % 12 - 6


def _prompt_score(ref: Reference, bars: int, melody_only: bool, plan: Plan) -> ScoreTick:
    """The reference's first ``bars`` bars (its melody line only, if asked), in the plan's key,
    tempo and meter."""
    from symusic import Tempo, TimeSignature

    score: Any = ref.score.copy()
    tpq = int(score.ticks_per_quarter)
    meter = ref.features.meter
    bar_ticks = round(tpq * meter[0] * 4 / meter[1])
    first = min((t.start() for t in score.tracks if t.note_num()), default=0)
    start = (first // bar_ticks) * bar_ticks
    score = score.clip(start, start + bars * bar_ticks, clip_end=True).shift_time(-start)
    if melody_only:
        from musicapp.generation.composer.conditioning import parts_of

        melody_tracks = [p.index for p in parts_of(score) if p.role == "melody"][:1]
        keep = melody_tracks or [0]
        tracks = [score.tracks[i] for i in keep]
        score.tracks.clear()
        for t in tracks:
            score.tracks.append(t)
    semitones = _shift(ref.features.key.tonic, plan.tonic)
    for track in score.tracks:
        if not track.is_drum:
            track.shift_pitch(semitones, inplace=True)
    score.tempos.clear()
    score.tempos.append(Tempo(0, qpm=plan.tempo_qpm))
    score.time_signatures.clear()
    score.time_signatures.append(TimeSignature(0, plan.meter[0], plan.meter[1]))
    return score  # type: ignore[no-any-return]


def _bar_s(plan: Plan) -> float:
    return plan.meter[0] * (4 / plan.meter[1]) * 60.0 / plan.tempo_qpm


def _compose(model: Any, plan: Plan, length_s: float, seed: int, cancel: CancelToken) -> ScoreTick:
    """Sample a continuation of the prompt long enough for ``length_s``, keeping to REMI's
    grammar and the references' instruments (``sampling.py``), and return it alone, as a score
    starting at its first bar."""
    from musicapp.generation.composer import tokens
    from musicapp.generation.composer.sampling import Grammar, sample_bars, vocab

    prompt = [tokens.bos_id()]
    for ref, bars, melody_only in plan.prompts:
        ids = tokens.encode(_prompt_score(ref, bars, melody_only, plan))
        prompt += [i for i in ids if i not in (tokens.bos_id(), tokens.eos_id())]
    v = vocab()
    programs = set(plan.programs) | {v.value[i] for i in prompt if v.kind[i] == "Program"}
    grammar = Grammar(
        programs, plan.meter[0] * 4 / plan.meter[1], f"{plan.meter[0]}/{plan.meter[1]}"
    )
    wanted = math.ceil(length_s / _bar_s(plan)) + 1
    ids = sample_bars(
        model,
        prompt,
        wanted,
        grammar,
        temperature=TEMPERATURE,
        top_k=TOP_K,
        seed=seed,
        max_tokens=MAX_TOKENS,
        cancel=cancel,
    )
    bar_id = tokens.tokenizer()["Bar_None"]
    continuation = ids[len(prompt) :]
    # The continuation from its first new bar, with the prompt's meter and tempo ahead of it.
    first = continuation.index(bar_id) if bar_id in continuation else 0
    rest = continuation[first + 1 :]
    meter = next((i for i in prompt if v.kind[i] == "TimeSig"), None)
    tempo = next((i for i in prompt if v.kind[i] == "Tempo"), None)
    head = [meter] if meter is not None and (not rest or v.kind[rest[0]] != "TimeSig") else []
    if tempo is not None:
        start = tokens.tokenizer()["Position_0"]
        body = rest[1:] if rest and v.kind[rest[0]] == "TimeSig" else rest
        lead = rest[:1] if rest and v.kind[rest[0]] == "TimeSig" else []
        if body and body[0] == start:
            body = body[1:]
        rest = [*lead, start, tempo, *body]
    score = tokens.decode([bar_id, *head, *rest])
    if score.note_num() == 0:
        raise InvalidInput("composer: the model wrote no notes; try another seed")
    return score


def _render(score: ScoreTick, plan: Plan, length_s: float, rate: int) -> np.ndarray:
    from musicapp.generation.composer.render import render_score

    rendered = render_score(score, plan.instruments, length_s=length_s)
    audio = np.asarray(rendered.mix, dtype=np.float32)
    if rendered.rate != rate:
        import torch
        import torchaudio

        audio = torchaudio.functional.resample(torch.from_numpy(audio), rendered.rate, rate).numpy()
    n = round(length_s * rate)
    audio = (
        audio[:, :n] if audio.shape[1] >= n else np.pad(audio, ((0, 0), (0, n - audio.shape[1])))
    )
    fade = min(n // 4, round(0.5 * rate))
    if fade:
        audio[:, -fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio / peak * 0.9 if peak > 0.9 else audio


def _splice(
    user: np.ndarray, composed: np.ndarray, start_s: float, rate: int
) -> tuple[np.ndarray, float]:
    """The user's audio with the composed range put in, equal-power crossfades at both ends;
    and the share of the take left as the user's."""
    out = np.asarray(user, dtype=np.float32).copy()
    start = round(start_s * rate)
    end = min(start + composed.shape[1], out.shape[1])
    part = composed[:, : end - start]
    fade = min(round(SPLICE_S * rate), max(1, part.shape[1] // 4))
    ramp = np.sin(np.linspace(0, np.pi / 2, fade, dtype=np.float32)) ** 2
    mix = part.copy()
    mix[:, :fade] = part[:, :fade] * ramp + out[:, start : start + fade] * (1 - ramp)
    mix[:, -fade:] = part[:, -fade:] * ramp[::-1] + out[:, end - fade : end] * (1 - ramp[::-1])
    out[:, start:end] = mix
    return out, 1.0 - (end - start) / out.shape[1]


def _provenance(
    refs: Sequence[Reference],
    duration_s: float,
    user_share: float,
    request: GenerationRequest,
) -> tuple[tuple[SourceShare, ...], tuple[TimelineSlot, ...]]:
    total = sum(r.weight for r in refs) or 1.0
    ours = 1.0 - user_share
    shares = [
        SourceShare(r.material.index, r.material.song.id, ours * r.weight / total) for r in refs
    ]
    songs: dict[str, float] = {}
    for r in refs:
        songs[r.material.song.id] = songs.get(r.material.song.id, 0.0) + r.weight / total
    sources = tuple(sorted(songs.items()))
    if user_share > 0 and request.user_range is not None:
        start, end = request.user_range.start_s, request.user_range.end_s
        shares.append(SourceShare(USER_INDEX, USER_SOURCE, user_share))
        slots = (
            TimelineSlot(0.0, start, ((USER_SOURCE, 1.0),)),
            TimelineSlot(start, end, sources),
            TimelineSlot(end, duration_s, ((USER_SOURCE, 1.0),)),
        )
        timeline: tuple[TimelineSlot, ...] = tuple(t for t in slots if t.end_s > t.start_s)
    else:
        timeline = (TimelineSlot(0.0, duration_s, sources),)
    return tuple(shares), timeline
