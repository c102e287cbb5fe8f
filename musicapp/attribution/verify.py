"""Checking a fingerprint cluster against the audio itself: is the item's recording really there?

Hash votes find candidates; they do not prove them. In a catalogue rendered with shared
instruments, a few matching triplets can come from one note of the same sample in the same key,
and at −20 dB under other music a reused excerpt keeps only a few triplets. So every candidate
cluster is *verified*: the item's own spectral peaks (kept in the index) are moved by the
cluster's transposition, tempo ratio and offset onto the audited audio's spectrogram, and we ask
how much louder the audio is at those points than around them (its *salience*), against the same
peaks moved a second or two away (the null: same notes, same instrument, wrong place). A
recording that is there lifts the salience at its own peaks, bar after bar; a chance alignment
does not. The result is a per-second evidence profile, which also places the material.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter, uniform_filter1d

from musicapp.attribution import landmarks as lm

TOL_FRAMES = 2  # a peak may land ± this many frames (46 ms) from where the map puts it
TOL_BINS = 1  # and ± this many bins (1/3 semitone)
CEILING_DB = 20.0  # salience above this counts no more: one loud note is not a melody
NULL_SHIFTS = (-113, -89, -61, -37, 37, 61, 89, 113)  # frames: 0.9-2.6 s away
NULL_BARS = (-2, -1, 1, 2)  # where the item's bar is known: its own bars away
FIT_SPAN_S = 2.0  # a cluster spanning this much of the item fits its own tempo ratio
MAX_REFIT = 0.03  # ... within ± this of the grid's
RUN_LIFT_DB = 1.0  # a second belongs to a run when its peaks (smoothed over 3 s) stand this high
EXPLAINED_Z = 3.0  # a found recording adds less than this to a stronger one: it is that one's
RIVALS = 8  # ... to the strongest this many found over the same seconds (a bounded cost)
REVERSE = 3  # and it is capped if one of the strongest this many adds that much to it
PEAK_DB = 10.0  # a peak's value in a salience made of peaks (``Salience.of_peaks``)
_TOLERANCE = (2 * TOL_FRAMES + 1, 2 * TOL_BINS + 1)  # a peak's place, spread over it


@dataclass(frozen=True)
class Salience:
    """The audited audio's salience: how far each spectrogram cell stands above its
    neighbourhood, in dB, 0 to CEILING_DB, spread over the tolerance of a peak's position."""

    grid: NDArray[np.float32]  # (frames, lm.N_BINS)

    @property
    def frames(self) -> int:
        return int(self.grid.shape[0])

    @classmethod
    def of(cls, audio: NDArray[np.floating], sample_rate: int) -> Salience:
        return cls.of_spectrogram(lm.log_spectrogram(lm.to_fp_rate(audio, sample_rate)))

    @classmethod
    def of_spectrogram(cls, spec: NDArray[np.float32]) -> Salience:
        """The salience of a ``landmarks.log_spectrogram``."""
        mean = uniform_filter1d(uniform_filter1d(spec, 2 * lm.PEAK_TIME + 1, axis=0), 15, axis=1)
        s = np.clip(spec - mean, 0.0, CEILING_DB)
        s[spec < float(spec.max()) - lm.FLOOR_DB] = 0.0
        return cls(maximum_filter(s, size=_TOLERANCE).astype(np.float32))

    @classmethod
    def for_check(
        cls, spec: NDArray[np.float32], p: lm.Peaks, take: bool
    ) -> tuple[Salience, Salience | None]:
        """What a search's clusters are checked against (``check``'s ``audio`` and ``also``):
        the user's audio, its salience in dB (a hidden excerpt is mixed under other music, and
        its peaks are not all the audio's); a take, its own peaks ``p`` (``of_peaks``) and its
        salience in dB, whichever holds the cluster more strongly: a real recording moved by
        the phase vocoder keeps its notes but not all its peaks. ``spec``: the audio's
        ``landmarks.log_spectrogram``."""
        in_db = cls.of_spectrogram(spec)
        return (cls.of_peaks(p, in_db.frames), in_db) if take else (in_db, None)

    @classmethod
    def of_peaks(cls, p: lm.Peaks, frames: int) -> Salience:
        """The audio's own spectral peaks (``landmarks.peaks``) as its salience: PEAK_DB at
        each, spread over the tolerance, 0 elsewhere. A take's references sound whole, note for
        note, and where its peaks are the take's peaks too, this tells the true place from a
        place a second away more sharply than the salience in dB, which most of a busy
        spectrogram has (docs/audit.md, "A take checked against its own peaks")."""
        g = np.zeros((max(frames, 1), lm.N_BINS), np.float32)
        inside = p.times < g.shape[0]
        g[p.times[inside], p.bins[inside]] = PEAK_DB
        return cls(maximum_filter(g, size=_TOLERANCE))


@dataclass(frozen=True)
class Evidence:
    """How strongly the audio holds one cluster's recording, second by second."""

    lift_db: float  # mean salience at the item's peaks above the null, over the whole overlap
    z: float  # that lift over its standard error
    sd: float  # the spread of one peak's lift (dB)
    per_second: NDArray[np.float32]  # mean lift of the peaks in each second of the audio (dB)
    counts: NDArray[np.int32]  # peaks mapped into each second
    scale: float  # the tempo ratio the map used (audited time / item time)
    offset_s: float  # where item time 0 falls in the audited audio

    def run(self, min_lift_db: float, min_peaks: int = 8) -> tuple[float, float, float]:
        """The strongest run of consecutive seconds whose lift (smoothed over 3 s) is at least
        ``min_lift_db``: (start s, end s, z of its lift); (0, 0, 0) when there is none."""
        w = self.counts.astype(np.float64)
        lift = self.per_second.astype(np.float64) * w
        smooth = _box(lift, 3) / np.maximum(_box(w, 3), 1.0)
        good = (smooth >= min_lift_db) & (_box(w, 3) >= min_peaks)
        best = (0.0, 0.0, 0.0)
        best_mass = 0.0
        i = 0
        n = good.size
        while i < n:
            if not good[i]:
                i += 1
                continue
            j = i
            while j < n and good[j]:
                j += 1
            end = j
            # The smoothing spills a second past each end: trim seconds that hold no lift.
            while i < j and self.per_second[i] < min_lift_db:
                i += 1
            while j > i and self.per_second[j - 1] < min_lift_db:
                j -= 1
            if j <= i:
                i = end
                continue
            mass = float(lift[i:j].sum())
            if mass > best_mass:
                best_mass = mass
                n_peaks = max(1.0, float(w[i:j].sum()))
                best = (float(i), float(j), mass / (self.sd * np.sqrt(n_peaks)))
            i = end
        return best


def _box(v: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    """Sums over ``width`` centred neighbours, as long as ``v`` even when it is shorter (audio
    of a second or two: numpy's "same" is then as long as the box)."""
    lo = (width - 1) // 2
    return np.asarray(np.convolve(v, np.ones(width), mode="full")[lo : lo + v.size], np.float64)


def _map(cluster: lm.Cluster) -> tuple[float, float]:
    """(scale, offset in seconds): audited time = scale × item time + offset, fitted to the
    cluster's matches (its grid ratio refined where the matches span enough of the item)."""
    q = cluster.query_s.astype(np.float64)
    i = cluster.item_s.astype(np.float64)
    scale = float(cluster.scale)
    if i.size >= 4 and float(i.max() - i.min()) >= FIT_SPAN_S:
        a, _ = np.polyfit(i, q, 1)
        scale = float(np.clip(a, scale * (1 - MAX_REFIT), scale * (1 + MAX_REFIT)))
    return scale, float(np.median(q - scale * i))


def _null_shifts(bar_s: float | None, scale: float) -> NDArray[np.int64]:
    """Where the null looks: a second or two away and, where the item's bar is known, whole
    bars away too. A song's accompaniment, drum pattern and key line up bars away as well as
    at the true place, and only its tune does not (so another song of the same arrangement is
    not found for its patterns); a tune that repeats its bars lines up bars away too, and only
    the shifts of a second or two tell it (so a reel is still found)."""
    seconds = np.array(NULL_SHIFTS, np.int64)
    if bar_s and bar_s > 0:
        frames = np.rint(np.array(NULL_BARS) * bar_s * scale / lm.FRAME_S).astype(np.int64)
        if np.all(np.abs(frames) > 2 * TOL_FRAMES):
            return np.concatenate([frames, seconds])
    return seconds


def evidence(
    cluster: lm.Cluster, item: lm.Peaks, audio: Salience, bar_s: float | None = None
) -> Evidence:
    """The evidence that ``audio`` holds the stretch of ``item`` the cluster points at;
    ``bar_s`` is the item's bar in seconds, where known."""
    scale, offset = _map(cluster)
    seconds = max(1, int(np.ceil(audio.frames * lm.FRAME_S)))
    zero = Evidence(0.0, 0.0, 1.0, np.zeros(seconds, np.float32), np.zeros(seconds, np.int32),
                    scale, offset)  # fmt: skip
    if len(item) == 0 or audio.frames == 0:
        return zero
    t, f = _moved(item, scale, offset, cluster.semitones)
    ok = (t >= 0) & (t < audio.frames) & (f >= 0) & (f < lm.N_BINS)
    t, f = t[ok], f[ok]
    if t.size < 4:
        return zero
    g = audio.grid
    here = g[t, f].astype(np.float64)
    shifted = t[:, None] + _null_shifts(bar_s, scale)[None, :]
    inside = (shifted >= 0) & (shifted < audio.frames)
    null_vals = np.where(inside, g[np.clip(shifted, 0, audio.frames - 1), f[:, None]], 0.0)
    null = null_vals.sum(axis=1) / np.maximum(inside.sum(axis=1), 1)
    d = here - null
    sec = np.minimum((t * lm.FRAME_S).astype(np.int64), seconds - 1)
    counts = np.bincount(sec, minlength=seconds).astype(np.int32)
    sums = np.bincount(sec, weights=d, minlength=seconds)
    per_second = (sums / np.maximum(counts, 1)).astype(np.float32)
    sd = float(d.std()) or 1.0
    lift = float(d.mean())
    return Evidence(lift, lift / sd * np.sqrt(d.size), sd, per_second, counts, scale, offset)


def narrowed(cluster: lm.Cluster, e: Evidence, start_s: float, end_s: float) -> lm.Cluster:
    """The cluster as verified: its matches replaced by the run of seconds the audio holds the
    item in (a point every QBIN_S), mapped back to item time by the fitted map, each point with
    the lift of its second (how strongly the recording sounds there)."""
    q: NDArray[np.float64] = np.arange(
        start_s, max(start_s + lm.QBIN_S, end_s), lm.QBIN_S, dtype=np.float64
    )
    q = q[(q - e.offset_s) / e.scale >= 0]
    if q.size == 0:
        q = np.array([max(start_s, e.offset_s)], np.float64)
    i = (q - e.offset_s) / e.scale
    sec = np.clip(q.astype(np.int64), 0, e.per_second.size - 1)
    return lm.Cluster(
        cluster.item, cluster.semitones, e.scale, cluster.votes,
        q.astype(np.float32), i.astype(np.float32), e.per_second[sec].astype(np.float32),
    )  # fmt: skip


def check(
    clusters: list[lm.Cluster],
    item_peaks: list[lm.Peaks | None],
    audio: Salience,
    item_bar_s: list[float | None] | None = None,
    also: Salience | None = None,
) -> list[tuple[lm.Cluster, float]]:
    """Every cluster checked against the audio: (the cluster narrowed to the run of seconds
    that holds its recording, the z of that run's lift). With ``also``, a second salience of
    the same audio, the stronger of the two runs counts (see ``Salience.for_check``).
    Clusters whose item has no kept peaks (an index from before they were kept) pass
    unnarrowed with z = nan; clusters with no run are left out."""
    out: list[tuple[lm.Cluster, float]] = []
    for c in clusters:
        p = item_peaks[c.item]
        if p is None:
            out.append((c, float("nan")))
            continue
        bar_s = item_bar_s[c.item] if item_bar_s else None
        e = evidence(c, p, audio, bar_s)
        start, end, z = e.run(RUN_LIFT_DB)
        if also is not None:
            e2 = evidence(c, p, also, bar_s)
            start2, end2, z2 = e2.run(RUN_LIFT_DB)
            if end2 > start2 and (end <= start or z2 > z):
                e, start, end, z = e2, start2, end2, z2
        if end > start:
            out.append((narrowed(c, e, start, end), z))
    return out


def unexplained(
    p: lm.Peaks, found: list[lm.Cluster], item_peaks: list[lm.Peaks | None], frames: int
) -> lm.Peaks:
    """The audio's peaks that the recordings already found do not explain: each found
    cluster's item peaks are mapped onto the audio (as in ``evidence``) over the seconds it
    was found in, and every audio peak within a peak's tolerance of one is dropped. Where one
    reference's melody sounds over another's accompaniment, the melody's peaks crowd the
    other's out of the triplets; without them, the other's own triplets can match."""
    if len(p) == 0 or not found:
        return p
    covered = _covered([_placed(c, item_peaks) for c in found], 0, frames + 1)
    keep = ~covered[np.minimum(p.times, frames), p.bins]
    return lm.Peaks(p.times[keep], p.bins[keep])


_Placed = tuple[NDArray[np.int64], NDArray[np.int64]]


def _mapped(c: lm.Cluster, item: lm.Peaks) -> _Placed:
    """The item's peaks moved onto the audio by the cluster's map: (frames, bins)."""
    scale, offset = _map(c)
    return _moved(item, scale, offset, c.semitones)


def _moved(item: lm.Peaks, scale: float, offset_s: float, semitones: int) -> _Placed:
    """Item peaks at audited time = scale × item time + offset, up ``semitones``."""
    t = np.rint((item.times * lm.FRAME_S * scale + offset_s) / lm.FRAME_S).astype(np.int64)
    return t, item.bins.astype(np.int64) + semitones * lm.BINS_PER_SEMITONE


def _placed(c: lm.Cluster, item_peaks: list[lm.Peaks | None]) -> _Placed:
    """A found cluster's item peaks on the audio over the frames it was found in: from two
    moments before its span to a triplet's span after."""
    item = item_peaks[c.item]
    if item is None or len(item) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    t, f = _mapped(c, item)
    lo = (c.span_s[0] - 2 * lm.QBIN_S) / lm.FRAME_S
    hi = (c.span_s[1] + lm.TARGET_FRAMES[1] * lm.FRAME_S) / lm.FRAME_S
    ok = (t >= max(lo, 0)) & (t <= hi) & (f >= 0) & (f < lm.N_BINS)
    return t[ok], f[ok]


def _covered(placed: list[_Placed], lo: int, hi: int) -> NDArray[np.bool_]:
    """(hi - lo, bins): where the placed peaks land in the audio's frames ``lo`` to ``hi``,
    spread over a peak's tolerance."""
    covered = np.zeros((max(hi - lo, 1), lm.N_BINS), bool)
    for t, f in placed:
        ok = (t >= lo) & (t < hi)
        covered[t[ok] - lo, f[ok]] = True
    return maximum_filter(covered, size=_TOLERANCE)


def residual_z(
    c: lm.Cluster,
    others: list[lm.Cluster],
    item_peaks: list[lm.Peaks | None],
    audio: Salience,
    bar_s: float | None = None,
    also: Salience | None = None,
) -> float:
    """The z of the cluster's run counting only its item's peaks that ``others`` (other
    recordings found over the same seconds) do not also put there: what it adds to them."""
    return _residual(c, [_placed(o, item_peaks) for o in others], item_peaks, audio, bar_s, also)


def _residual(
    c: lm.Cluster,
    others: list[_Placed],
    item_peaks: list[lm.Peaks | None],
    audio: Salience,
    bar_s: float | None,
    also: Salience | None,
) -> float:
    item = item_peaks[c.item]
    if item is None or len(item) == 0:
        return float("nan")
    placed = [(t, f) for t, f in others if t.size]
    lo = min((int(t.min()) for t, _ in placed), default=0)
    hi = max((int(t.max()) + 1 for t, _ in placed), default=0)
    covered = _covered(placed, lo, hi)  # only where the others were found
    t, f = _mapped(c, item)
    ok = (t >= lo) & (t < hi) & (f >= 0) & (f < lm.N_BINS)
    keep = np.ones(len(item), bool)
    keep[ok] = ~covered[t[ok] - lo, f[ok]]
    own = lm.Peaks(item.times[keep], item.bins[keep])
    runs = [evidence(c, own, s, bar_s).run(RUN_LIFT_DB)[2] for s in (audio, also) if s is not None]
    return max(runs)


def explained_away(
    scored: list[tuple[lm.Cluster, float, float]],
    item_song: list[str],
    item_peaks: list[lm.Peaks | None],
    audio: Salience,
    item_bar_s: list[float | None],
    also: Salience | None = None,
    found: float = 0.5,
    cap: float = 0.3,
) -> list[tuple[lm.Cluster, float, float]]:
    """Scored clusters (cluster, p, z) with each found one (p >= ``found``) that a stronger
    found recording of another song explains capped at ``cap``: over the seconds they share
    (at least half its own), its peaks away from the stronger one's hold z < EXPLAINED_Z,
    while the stronger one's peaks away from its own still hold more. Songs of one
    arrangement share their accompaniment; the one whose tune is there explains the other,
    which otherwise is found too, on the accompaniment alone (docs/audit.md, "Explained
    away"). Two recordings that each add their own peaks (a melody over another reference's
    accompaniment) are both kept; two that explain each other alike are left as they are."""
    live = [
        (i, c, z)
        for i, (c, p, z) in enumerate(scored)
        if p >= found and item_peaks[c.item] is not None and not np.isnan(z)
    ]
    span = {i: c.span_s for i, c, _ in live}
    placed: dict[int, _Placed] = {}

    def on_audio(i: int) -> _Placed:
        if i not in placed:
            placed[i] = _placed(scored[i][0], item_peaks)
        return placed[i]

    out = list(scored)
    for i, c, z in live:
        song = item_song[c.item]
        rivals = sorted(
            ((z2, j, o) for j, o, z2 in live
             if j != i and item_song[o.item] != song and z2 > z
             and _shared(span[j], span[i]) >= 0.5),
            key=lambda r: -r[0],
        )  # fmt: skip
        if not rivals:
            continue
        rivals = rivals[:RIVALS]
        them = [on_audio(j) for _, j, _ in rivals]
        if _residual(c, them, item_peaks, audio, item_bar_s[c.item], also) >= EXPLAINED_Z:
            continue
        mine = [on_audio(i)]
        if any(
            _residual(o, mine, item_peaks, audio, item_bar_s[o.item], also) >= EXPLAINED_Z
            for _, _, o in rivals[:REVERSE]
        ):
            out[i] = (c, min(scored[i][1], cap), z)
    return out


def _shared(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The share of span ``b`` that span ``a`` covers (seconds)."""
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return max(0.0, hi - lo) / max(lm.QBIN_S, b[1] - b[0])
