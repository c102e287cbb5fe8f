"""Audio and temporal levels: the user's own audio re-rendered, whole or in a range, from the
references' bars, on the user's bar grid and at the user's loudness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from musicapp.audio.analysis import Analysis, BarFeatures, key_shift, rms
from musicapp.audio.cache import cached_analyse, cached_bar_features
from musicapp.core import GenerationRequest, InvalidInput, Level, allocate
from musicapp.core.provenance import Provenance
from musicapp.generation.bars import fade_ends, render_bar
from musicapp.generation.base import Conditioning, Material, number_option
from musicapp.generation.layers import SILENT_RMS, Source, analyse_material, make_source
from musicapp.generation.tracks import Tracks, provenance
from musicapp.jobs import CancelToken, Progress, ProgressCallback

USER_LEVELS = frozenset({Level.AUDIO, Level.TEMPORAL})
JOIN_S = 0.03  # crossfade between consecutive reference bars, as at song level
PEAK = 10 ** (-1.0 / 20)
ANALYSIS_SHARE = 0.2  # of the progress bar
SPLICE_S = 0.05  # equal-power crossfade at each edge of a temporal range, inside the range
ENERGY = 0.5  # weight of the loudness mismatch against the chroma mismatch (0..1 each)
REUSE = 0.15  # per earlier use of the same reference bar: some variety where matches tie
FOLLOW = 0.1  # bonus for the reference's next bar after the one just used: its own phrasing
MAX_GAIN_DB = 18.0  # the loudness envelope moves a bar by at most this much either way


@dataclass
class Region:
    """The part of the user's audio to regenerate, in samples, and the crossfade at its edges."""

    start: int
    end: int
    splice: int  # 0 where the region reaches the end of the audio

    def mask(self, a: int, b: int, n: int) -> npt.NDArray[Any]:
        """The generated material's gain over samples [a, b): 0 outside the region, sine ramps
        inside its edges; the user's audio gets sqrt(1 - mask**2) (equal power)."""
        t = np.arange(a, b, dtype=np.float64)
        g = ((t >= self.start) & (t < self.end)).astype(np.float64)
        if self.start > 0 and self.splice:
            ramp = (t - self.start + 0.5) / self.splice
            inside = (t >= self.start) & (t < self.start + self.splice)
            g[inside] = np.sin(0.5 * np.pi * ramp[inside])
        if self.end < n and self.splice:
            ramp = (self.end - t - 0.5) / self.splice
            inside = (t >= self.end - self.splice) & (t < self.end)
            g = np.where(inside, np.minimum(g, np.sin(0.5 * np.pi * ramp)), g)
        return g


@dataclass
class UserPlan:
    """Which reference bar plays in each of the user's bars that the region touches."""

    sample_rate: int
    n_samples: int
    analysis: Analysis
    bounds: npt.NDArray[Any]  # the user's bar grid in samples, extended to cover the whole audio
    bars: list[int]  # indices k of bars [bounds[k], bounds[k+1]) that overlap the region
    region: Region
    sources: list[Source]  # one per reference, in request order
    choices: list[tuple[int, int]]  # per entry of `bars`: (reference index, its bar)
    blend: float


def check_user_request(request: GenerationRequest, has_audio: bool) -> bool:
    """True when the request edits the user's audio; raise InvalidInput where the levels and
    the user's audio do not fit together. Needs only the request, so the studio checks it
    before anything runs and both front ends show the same words."""
    levels = {ref.level for ref in request.references}
    user_refs = levels & USER_LEVELS
    if not user_refs:
        if has_audio:
            raise InvalidInput(
                "your audio is given, but no reference reshapes it: set a reference to audio or "
                "temporal level, or leave your audio out"
            )
        return False
    if levels - USER_LEVELS:
        raise InvalidInput(
            "references: audio- and temporal-level references cannot be combined with song- or "
            "parameter-level ones in one request"
        )
    if not has_audio:
        raise InvalidInput("user audio: audio- and temporal-level references need the user's audio")
    if Level.TEMPORAL in levels and request.user_range is None:
        raise InvalidInput(
            "user range: a temporal-level reference needs a range of the user's audio"
        )
    return True


def user_mode(request: GenerationRequest, conditioning: Conditioning) -> bool:
    """True when the request edits the user's audio; raise InvalidInput where it is incomplete."""
    has_audio = conditioning.user_audio is not None or bool(request.user_audio)
    if not check_user_request(request, has_audio):
        return False
    if conditioning.user_audio is None:
        raise InvalidInput("user audio: audio- and temporal-level references need the user's audio")
    return True


def _region(request: GenerationRequest, sr: int, n: int) -> Region:
    """Temporal level: the chosen range; audio level: the whole audio."""
    temporal = any(ref.level is Level.TEMPORAL for ref in request.references)
    if not temporal or request.user_range is None:
        return Region(0, n, 0)
    rng = request.user_range
    rng.check_within(n / sr, "the user's audio")
    start, end = int(round(rng.start_s * sr)), min(int(round(rng.end_s * sr)), n)
    splice = min(int(round(SPLICE_S * sr)), (end - start) // 4)
    return Region(start, end, splice)


def _blend(request: GenerationRequest) -> float:
    return float(number_option(request, "blend", 0.0, 1.0, 0.0) or 0.0)


def _grid(analysis: Analysis, sr: int, n: int) -> npt.NDArray[Any]:
    """The user's bar boundaries in samples, extended by whole bars to cover [0, n)."""
    bars = np.round(np.asarray(analysis.bars_s) * sr).astype(np.int64)
    bars = np.unique(bars[(bars > 0) & (bars < n)])
    nominal = int(round(analysis.beats_per_bar * 60.0 / analysis.tempo_bpm * sr))
    if len(bars) == 0:
        bars = np.array([min(nominal, n)], dtype=np.int64)
    head = np.arange(bars[0] - nominal, -nominal, -nominal)[::-1]
    tail = np.arange(bars[-1] + nominal, n + nominal, nominal)
    grid: npt.NDArray[Any] = np.concatenate([head, bars, tail]).astype(np.int64)
    return grid


def _cos_dist(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[Any]:
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    sim = (a * b).sum(axis=-1) / np.maximum(na * nb, 1e-9)
    dist: npt.NDArray[Any] = np.where((na > 1e-9) & (nb > 1e-9), 1.0 - sim, 0.5)
    return dist


def _log_level(levels: npt.NDArray[Any], typical: float) -> npt.NDArray[Any]:
    out: npt.NDArray[Any] = np.log2(np.maximum(levels, 1e-9) / max(typical, 1e-9))
    return out


def _typical(levels: npt.NDArray[Any]) -> float:
    loud = levels[levels > 0.05 * levels.max()] if levels.size and levels.max() > 0 else levels
    return float(np.median(loud)) if loud.size else 0.0


def _costs(user: BarFeatures, k: int, user_typ: float, src: Source) -> npt.NDArray[Any]:
    """Chroma and loudness mismatch of user bar k against each usable bar of a source."""
    f = src.features
    idx = src.usable
    chroma = _cos_dist(f.chroma_mean[idx], user.chroma_mean[k][None, :])
    level = np.abs(
        _log_level(f.rms[idx], src.typical_rms) - _log_level(user.rms[k : k + 1], user_typ)
    )
    costs: npt.NDArray[Any] = chroma + ENERGY * np.minimum(level, 4.0) / 4.0
    return costs


def plan_user(
    request: GenerationRequest,
    conditioning: Conditioning,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> UserPlan:
    """Analyse the user's audio and the references; choose a reference bar per user bar."""
    if conditioning.user_audio is None:
        raise InvalidInput("user audio: audio- and temporal-level references need the user's audio")
    sr = conditioning.sample_rate
    user = np.asarray(conditioning.user_audio, dtype=np.float32)
    if user.ndim != 2 or user.shape[0] != 2 or user.shape[1] == 0:
        raise InvalidInput(f"user audio: must be stereo (2, n), got shape {user.shape}")
    if rms(user) <= SILENT_RMS:
        raise InvalidInput("user audio: it is silent")
    n = user.shape[1]
    region = _region(request, sr, n)
    progress(Progress(0.0, "generate", "analysing your audio"))
    ua = cached_analyse(user, sr)
    bounds = _grid(ua, sr, n)
    clipped = np.clip(bounds, 0, n)
    feats = cached_bar_features(user, sr, clipped / sr, ua.beats_per_bar, ua.spectral)
    user_typ = _typical(feats.rms)
    bars = [
        k
        for k in range(len(bounds) - 1)
        if bounds[k] < region.end and bounds[k + 1] > region.start and clipped[k + 1] > clipped[k]
    ]
    sources = []
    for i, mat in enumerate(conditioning.materials):
        cancel.check()
        fraction = ANALYSIS_SHARE * (i + 1) / (len(conditioning.materials) + 1)
        progress(Progress(fraction, "generate", f"analysing {mat.song.title}"))
        sources.append(_source(mat, ua))
    rng = np.random.default_rng(request.seed)
    choices = _choose(request, sources, feats, user_typ, bars, rng)
    return UserPlan(sr, n, ua, bounds, bars, region, sources, choices, _blend(request))


def _source(mat: Material, user: Analysis) -> Source:
    """A reference's whole mix cut into bars of the user's meter at the user's tempo, moved
    onto the user's key."""
    analysis = analyse_material(mat)
    src = make_source(mat, "song", set(), analysis, user.tempo_bpm, user.beats_per_bar)
    src.shift = key_shift(analysis.pitch_profile, user.pitch_profile)
    if src.shift:
        f = src.features
        for arr in (f.chroma_start, f.chroma_end, f.chroma_mean):
            arr[:] = np.roll(arr, src.shift, axis=1)
    return src


def _choose(
    request: GenerationRequest,
    sources: list[Source],
    user: BarFeatures,
    user_typ: float,
    bars: list[int],
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    """Give each user bar a reference (as many bars each as the weights allocate, the best
    matching bars first) and then, in order, that reference's best matching bar."""
    weights = [ref.weight for ref in request.references]
    quota = list(allocate(weights, len(bars)))
    best = np.array(
        [[float(_costs(user, k, user_typ, s).min()) for s in sources] for k in bars]
    ).reshape(len(bars), len(sources))
    # Rank every (bar, reference) pair by how much better it is than the bar's average match.
    score = best - best.mean(axis=1, keepdims=True) + 1e-6 * rng.random(best.shape)
    owner = [-1] * len(bars)
    for flat in np.argsort(score, axis=None, kind="stable"):
        i, r = divmod(int(flat), len(sources))
        if owner[i] < 0 and quota[r] > 0:
            owner[i], quota[r] = r, quota[r] - 1
    used: dict[tuple[int, int], int] = {}
    choices: list[tuple[int, int]] = []
    for i, k in enumerate(bars):
        r = owner[i]
        src = sources[r]
        cost = _costs(user, k, user_typ, src) + 1e-6 * rng.random(len(src.usable))
        cost += REUSE * np.array([used.get((r, int(b)), 0) for b in src.usable])
        if choices and choices[-1][0] == r:
            cost -= FOLLOW * (src.usable == choices[-1][1] + 1)
        bar = int(src.usable[int(np.argmin(cost))])
        used[(r, bar)] = used.get((r, bar), 0) + 1
        choices.append((r, bar))
    return choices


def match_envelope(
    seg: npt.NDArray[Any], target: npt.NDArray[Any], pieces: int
) -> npt.NDArray[Any]:
    """Scale `seg` so that its loudness follows `target`'s (same length) piece by piece (a beat
    each), with the gain interpolated between piece centres so it never steps."""
    n = seg.shape[1]
    if n == 0:
        return seg
    pieces = max(1, min(pieces, n // 64 or 1))
    edges = np.linspace(0, n, pieces + 1).astype(np.int64)
    limit = 10 ** (MAX_GAIN_DB / 20)
    gains = np.zeros(pieces)
    for p in range(pieces):
        s = rms(seg[:, edges[p] : edges[p + 1]])
        t = rms(target[:, edges[p] : edges[p + 1]])
        gains[p] = 0.0 if t <= SILENT_RMS else np.clip(t / max(s, 1e-9), 1 / limit, limit)
    centres = 0.5 * (edges[:-1] + edges[1:])
    curve = np.interp(np.arange(n), centres, gains).astype(np.float32)
    out: npt.NDArray[Any] = seg * curve
    return out


def render_user(
    plan: UserPlan,
    conditioning: Conditioning,
    engine: str,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> tuple[npt.NDArray[Any], Provenance]:
    """Stretch the chosen bars onto the user's bars, follow the user's loudness, splice them
    into the user's audio; the output is the sum of one track per reference and the user's."""

    if conditioning.user_audio is None:
        raise InvalidInput("user audio: audio- and temporal-level references need the user's audio")
    user = np.asarray(conditioning.user_audio, dtype=np.float32)
    sr, n, region = plan.sample_rate, plan.n_samples, plan.region
    n_refs = len(plan.sources)
    tracks = Tracks(n_refs + 1, n, sr, np.ones(n, dtype=np.float32))
    xf = int(round(JOIN_S * sr))
    meter = plan.analysis.beats_per_bar
    cursor = 0  # the user's track is scheduled up to here

    def add_user(upto: int) -> None:
        nonlocal cursor
        upto = min(upto, n)
        if upto > cursor:
            g = region.mask(cursor, upto, n)
            w = np.sqrt(np.maximum(0.0, 1.0 - g * g)) + plan.blend * g
            if np.any(w > 0):
                tracks.add(n_refs, cursor, user[:, cursor:upto] * w.astype(np.float32))
            cursor = upto

    for i, k in enumerate(plan.bars):
        cancel.check()
        b0, b1 = int(plan.bounds[k]), int(plan.bounds[k + 1])
        r, bar = plan.choices[i]
        src = plan.sources[r]
        prev = plan.choices[i - 1] if i else None
        nxt = plan.choices[i + 1] if i + 1 < len(plan.bars) else None
        pre = xf if i else 0
        seg, keep = render_bar(src, bar, b1 - b0, pre)
        if seg.shape[0] == 1:
            seg = np.repeat(seg, 2, axis=0)
        seg = match_envelope(seg, _cut(user, b0 - pre, b1), meter)
        fade_ends(seg, pre, xf if nxt else 0, keep, prev == (r, bar - 1), nxt == (r, bar + 1))
        a, b = max(b0 - pre, region.start, 0), min(b1, region.end, n)
        add_user(b1)
        if b > a:
            part = seg[:, a - (b0 - pre) : b - (b0 - pre)]
            gain = ((1.0 - plan.blend) * region.mask(a, b, n)).astype(np.float32)
            tracks.add(r, a, part * gain)
        tracks.flush(b1 - xf)
        fraction = ANALYSIS_SHARE + (1 - ANALYSIS_SHARE) * 0.99 * (i + 1) / len(plan.bars)
        progress(Progress(fraction, "generate", f"bar {i + 1}/{len(plan.bars)}"))
    add_user(n)
    audio = tracks.finish()
    peak = float(np.max(np.abs(audio)))
    if region.start == 0 and region.end == n:
        if peak > PEAK:  # audio level: the user's loudness is kept, only overs are brought down
            audio *= np.float32(PEAK / peak)
    elif peak > 1.0:
        # Temporal level: scaling would change the untouched audio; clipping changes only the
        # regenerated samples that go over (the user's own never exceed full scale).
        np.clip(audio, -1.0, 1.0, out=audio)
    ids = [m.song.id for m in conditioning.materials]
    prov = provenance(tracks, ids, engine, user_track=True)
    progress(Progress(1.0, "generate", "done"))
    return audio, prov


def _cut(audio: npt.NDArray[Any], a: int, b: int) -> npt.NDArray[Any]:
    """audio[:, a:b] with silence where the range runs off either end."""
    out = np.zeros((audio.shape[0], b - a), dtype=np.float32)
    lo, hi = max(a, 0), min(b, audio.shape[1])
    if hi > lo:
        out[:, lo - a : hi - a] = audio[:, lo:hi]
    return out
