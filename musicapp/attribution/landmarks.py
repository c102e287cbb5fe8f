"""Landmark fingerprints that survive the changes the app itself makes: tempo and pitch.

Why our own hashing and not Chromaprint: Chromaprint's fingerprint is a sequence of 32-bit
codes taken at fixed times over a chroma image. It survives gain, EQ and codecs, but a
transposition rotates every chroma frame and a tempo change moves every code against its
neighbours, so material the app stretched by 7 % or moved by a semitone no longer matches
(``docs/audit.md``). Landmarks (pairs of spectral peaks, as in Wang's Shazam paper) can be made
to survive both, because both act on peaks in a known way:

- frequencies are on a log scale, 1/3 semitone a bin, so a transposition by k semitones adds 3k
  to every peak's bin;
- a tempo change by s multiplies every peak's time by one factor.

Hashes stay *absolute* (anchor frequency, frequency difference, time difference): a hash with
only relative values matches every major triad of every song and drowns the truth in noise.
Instead the query is searched under every transposition the app makes (±6 semitones) and a grid
of tempo ratios (±25 %): the query's peaks are moved back by each candidate change before they
are paired, so a hash matches only under the change that was made. A match then votes for (item,
transposition, tempo, offset); stretches of one recording found in the audio are the cells with
many votes (``FingerprintIndex.query``). A hash is a triplet (an anchor and two targets): it
needs three of one recording's peaks, which another recording as loud rarely leaves (docs/audit.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter, uniform_filter1d
from scipy.signal import resample_poly

FORMAT = 2  # changes when the hashes (or the peaks kept with them) change: the index is rebuilt
FP_RATE = 11_025  # enough for the peaks we hash (up to ~4.2 kHz); a quarter of 44.1 kHz
N_FFT = 2048  # 186 ms: a third of a semitone resolves from ~170 Hz
HOP = 256  # 23.2 ms a frame
FRAME_S = HOP / FP_RATE
BINS_PER_SEMITONE = 3
F_LO = 130.81  # C3
N_BINS = 5 * 12 * BINS_PER_SEMITONE  # five octaves, C3 to C8
PEAK_FREQ = 4  # a peak is the loudest within ± this many bins (1.3 semitones)...
PEAK_TIME = 5  # ... and ± this many frames (116 ms)
PEAK_ABOVE_DB = 3.0  # and this much above its neighbourhood's mean
PEAKS_PER_S = 30  # the loudest kept per second
FLOOR_DB = 60.0  # peaks further below the loudest are noise
FAN = 5  # targets of each anchor: 10 triplets
TARGET_FRAMES = (1, 48)  # targets lie up to ~1.1 s after the anchor
MAX_DF = 30  # targets within ± 10 semitones of the anchor
MIN_DF = 2  # targets at least 2/3 semitone from the anchor
DT_STEP = 2  # time differences in steps of two frames: a tempo grid step's rounding fits in
N_DT = TARGET_FRAMES[1] // DT_STEP + 2
N_DF = 2 * MAX_DF + 1
MAX_SHIFT = 6  # semitones the app transposes at most
SCALES = tuple(float(x) for x in np.exp(np.arange(-7, 8) * 0.045))  # 0.73 to 1.37, with 1
EDGE = 0.25  # a time difference this near a rounding edge is looked up in both steps
OFFSET_S = 0.2  # width of an offset bin: where in the item the audited time 0 falls
COMMON_SONGS = 2  # a hash in more songs than this (or COMMON_FRACTION of them) names none
COMMON_FRACTION = 0.003
QBIN_S = 0.4  # a cluster's votes are the moments of this length its matches fall in
MIN_VOTES = 4  # fewer such moments than this is never a cluster
# A take's search (``FingerprintIndex.search``) verifies cells best first by votes over the
# square root of their item's entries: an item with many hashes (a dense chorale, a rag's busy
# stems) collects stray votes in proportion, and by votes alone outranked the short stretches of
# a reference that a take reorders bar by bar; and a cell of 3 moments is enough there (a bar of
# a fast tune is 1.2 s). The user's audio keeps votes alone and MIN_VOTES: what it is checked
# for is a stretch of 4 s or more, and the strays the other order lets through reach its bar
# (docs/audit.md, "Nominated by votes per entry").
DENSITY_POWER = 0.5
TAKE_MIN_VOTES = 3


@dataclass(frozen=True)
class Peaks:
    """Spectral peaks: frame and log-frequency bin, sorted by frame."""

    times: NDArray[np.int32]
    bins: NDArray[np.int16]

    def __len__(self) -> int:
        return int(self.times.size)


@dataclass(frozen=True)
class Hashes:
    """Triplet hashes: key, anchor time (frames); and the item's peaks they were made from,
    which the verification of a match (``verify.py``) looks for in the audited audio."""

    keys: NDArray[np.int64]
    times: NDArray[np.float32]
    peaks: Peaks | None = None

    def __len__(self) -> int:
        return int(self.keys.size)


def to_fp_rate(audio: NDArray[np.floating], sample_rate: int) -> NDArray[np.float32]:
    """Mono at FP_RATE."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if sample_rate != FP_RATE:
        ratio = Fraction(FP_RATE, int(sample_rate)).limit_denominator(1000)
        x = resample_poly(x, ratio.numerator, ratio.denominator).astype(np.float32)
    return x


def _log_map() -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float32]]:
    """For each log bin, the linear bins below and above its centre and the interpolation."""
    centres = F_LO * 2.0 ** (np.arange(N_BINS) / (12 * BINS_PER_SEMITONE))
    pos = centres * N_FFT / FP_RATE
    lo = np.floor(pos).astype(np.intp)
    return lo, lo + 1, (pos - lo).astype(np.float32)


_LO, _HI, _FRAC = _log_map()
_WINDOW = np.hanning(N_FFT).astype(np.float32)


def log_spectrogram(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """(frames, N_BINS) magnitudes in dB on the log-frequency grid."""
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    n = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:n] * _WINDOW
    mag = np.abs(np.fft.rfft(frames, axis=1)).astype(np.float32)
    spec = mag[:, _LO] * (1 - _FRAC) + mag[:, _HI] * _FRAC
    return (20 * np.log10(spec + 1e-6)).astype(np.float32)


def peaks(audio: NDArray[np.floating], sample_rate: int, per_s: int = PEAKS_PER_S) -> Peaks:
    """The spectral peaks of float audio at its own rate, the loudest ``per_s`` a second."""
    x = to_fp_rate(audio, sample_rate)
    if not np.any(x):
        return Peaks(np.zeros(0, np.int32), np.zeros(0, np.int16))
    return spectral_peaks(log_spectrogram(x), per_s)


def spectral_peaks(spec: NDArray[np.float32], per_s: int = PEAKS_PER_S) -> Peaks:
    """The peaks of a ``log_spectrogram``, the loudest ``per_s`` a second."""
    local_max = maximum_filter(spec, size=(2 * PEAK_TIME + 1, 2 * PEAK_FREQ + 1))
    mean = uniform_filter1d(uniform_filter1d(spec, 2 * PEAK_TIME + 1, axis=0), 15, axis=1)
    floor = float(spec.max()) - FLOOR_DB
    t, f = np.nonzero((spec == local_max) & (spec > mean + PEAK_ABOVE_DB) & (spec > floor))
    if t.size == 0:
        return Peaks(t.astype(np.int32), f.astype(np.int16))
    level = spec[t, f]
    # Per second, keep the loudest: a dense passage must not crowd out a quiet one.
    second = (t * FRAME_S).astype(np.int64)
    order = np.lexsort((-level, second))
    t, f, second = t[order], f[order], second[order]
    first = np.searchsorted(second, second, side="left")
    keep = (np.arange(t.size) - first) < per_s
    t, f = t[keep], f[keep]
    order = np.lexsort((f, t))
    return Peaks(t[order].astype(np.int32), f[order].astype(np.int16))


def triplets(
    p: Peaks, shift_bins: int = 0, scale: float = 1.0, fan: int = FAN
) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Triplet hashes of peaks after undoing a change: bins moved down by ``shift_bins`` and
    times divided by ``scale`` (the audited audio's time over the item's). Each anchor is
    hashed with every pair of its first FAN targets: (anchor bin, the two bin differences, the
    two time differences in DT_STEP steps). Returns (key, anchor time in item frames, and for
    each time difference what rounding dropped, -0.5 to 0.5 steps: near ±0.5 the neighbouring
    step is as likely)."""
    n = len(p)
    empty = np.zeros(0, np.float32)
    if n < 3:
        return np.zeros(0, np.int64), empty, empty, empty
    t = p.times.astype(np.float64) / scale
    f = p.bins.astype(np.int64) - shift_bins
    look = 3 * fan
    idx = np.arange(n)[:, None] + 1 + np.arange(look)[None, :]
    valid = idx < n
    idx = np.minimum(idx, n - 1)
    dt = t[idx] - t[:, None]
    df = f[idx] - f[:, None]
    valid &= (dt >= TARGET_FRAMES[0] - 0.5) & (dt <= TARGET_FRAMES[1]) & (np.abs(df) <= MAX_DF)
    # Not the same pitch again: a held note of a sampled instrument (its vibrato, its decay)
    # is the same in every song that plays that instrument on that note.
    valid &= np.abs(df) >= MIN_DF
    valid &= (f[:, None] >= 0) & (f[:, None] < N_BINS)
    valid &= np.cumsum(valid, axis=1) <= fan
    # The kept targets of each anchor, packed into its first ``fan`` columns.
    rank = np.cumsum(valid, axis=1) - 1
    rows, cols = np.nonzero(valid)
    tdt = np.full((n, fan), np.nan)
    tdf = np.zeros((n, fan), np.int64)
    tdt[rows, rank[rows, cols]] = dt[rows, cols]
    tdf[rows, rank[rows, cols]] = df[rows, cols]
    j, k = np.triu_indices(fan, 1)
    ok = ~np.isnan(tdt[:, j]) & ~np.isnan(tdt[:, k])
    a, c = np.nonzero(ok)
    j, k = j[c], k[c]
    qb, qc = tdt[a, j] / DT_STEP, tdt[a, k] / DT_STEP
    sb, sc = np.rint(qb).astype(np.int64), np.rint(qc).astype(np.int64)
    key = (f[a] * N_DF + (tdf[a, j] + MAX_DF)) * N_DF + (tdf[a, k] + MAX_DF)
    key = (key * N_DT + sb) * N_DT + sc
    return (
        key,
        t[a].astype(np.float32),
        (qb - sb).astype(np.float32),
        (qc - sc).astype(np.float32),
    )


def _with_neighbours(
    key: NDArray[np.int64], anchor: NDArray[np.float32], rb: NDArray[np.float32],
    rc: NDArray[np.float32],
) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.intp]]:  # fmt: skip
    """The keys plus, for a time difference that rounding nearly sent to the next step, the
    key with that step: a tempo ratio between two grid points must still match. Returns the
    keys, their anchor times and the triplet each came from."""
    keys, anchors = [key], [anchor]
    source: list[NDArray[np.intp]] = [np.arange(key.size)]
    for rest, unit in ((rb, N_DT), (rc, 1)):
        near = np.abs(rest) > EDGE
        keys.append(key[near] + np.where(rest[near] > 0, unit, -unit))
        anchors.append(anchor[near])
        source.append(np.flatnonzero(near))
    return np.concatenate(keys), np.concatenate(anchors), np.concatenate(source)


_KEYS_PER_BIN = N_DF * N_DF * N_DT * N_DT  # a key's anchor bin is its key // this


def variant_keys(
    p: Peaks, fan: int = FAN
) -> Iterator[tuple[int, int, NDArray[np.int64], NDArray[np.float32]]]:
    """Every variant of the search: (semitones, tempo grid index, keys with their neighbours,
    anchor times in item frames), the keys of ``triplets(p, 3 × semitones, SCALES[i])``.
    A transposition moves only the anchor's bin, so each tempo's triplets are made once and
    moved to each transposition (anchors moved off the grid drop out), not made 13 times."""
    for si, s in enumerate(SCALES):
        key, anchor, rb, rc = triplets(p, 0, s, fan)
        keys, anchors, source = _with_neighbours(key, anchor, rb, rc)
        anchor_bin = key[source] // _KEYS_PER_BIN
        for k in range(-MAX_SHIFT, MAX_SHIFT + 1):
            shift = k * BINS_PER_SEMITONE
            ok = (anchor_bin >= shift) & (anchor_bin < N_BINS + shift)
            yield k, si, keys[ok] - shift * _KEYS_PER_BIN, anchors[ok]


def item_hashes(audio: NDArray[np.floating], sample_rate: int) -> Hashes:
    """The hashes an index stores for one item (a song's mix or one stem), as recorded."""
    p = peaks(audio, sample_rate)
    key, times, _, _ = triplets(p)
    return Hashes(key, times, p)


# -- the index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    """Matches that agree on one item, transposition, tempo ratio and offset: one stretch of
    the item's recording found in the audited audio."""

    item: int
    semitones: int  # audited pitch - item pitch
    scale: float  # audited time / item time (1 / the tempo ratio)
    votes: int
    query_s: NDArray[np.float32]  # anchor times of its matches in the audited audio (s)
    item_s: NDArray[np.float32]  # and in the item (s)
    # After verification: how far the item's peaks stand out at each query point (dB).
    lift_db: NDArray[np.float32] | None = None

    @property
    def tempo_ratio(self) -> float:
        return 1.0 / self.scale

    @property
    def span_s(self) -> tuple[float, float]:
        return float(self.query_s.min()), float(self.query_s.max())


@dataclass(frozen=True)
class CellVotes:
    """A search's matches grouped into cells: one item, transposition, tempo ratio and offset
    bin each (``cells``, sorted; ``items`` the item of each), with their votes (moments of the
    audited audio, the next offset bin's added: ``nxt``/``has``) and every match's cell
    (``inverse``), count per cell (``raw``) and times in the audio and the item (frames)."""

    cells: NDArray[np.int64]
    n_off: int
    votes: NDArray[np.int64]
    nxt: NDArray[np.int64]
    has: NDArray[np.bool_]
    inverse: NDArray[np.int64]
    raw: NDArray[np.int64]
    q_all: NDArray[np.float32]
    i_all: NDArray[np.float32]

    @property
    def items(self) -> NDArray[np.int64]:
        return self.cells // self.n_off // _N_VARIANTS

    @cached_property
    def _members(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        return np.argsort(self.inverse, kind="stable"), np.concatenate([[0], np.cumsum(self.raw)])

    def cluster(self, c: int) -> Cluster:
        """Cell ``c`` (an index into ``cells``) and its next offset bin's matches, a cluster."""
        by_cell, bounds = self._members
        members = [c] + ([int(self.nxt[c])] if self.has[c] else [])
        sel = np.concatenate([by_cell[bounds[m] : bounds[m + 1]] for m in members])
        item, rest = divmod(int(self.cells[c]) // self.n_off, _N_VARIANTS)
        shift, si = divmod(rest, len(SCALES))
        q, i = (self.q_all[sel] * FRAME_S).astype(np.float32), self.i_all[sel] * FRAME_S
        return Cluster(
            item, shift - MAX_SHIFT, SCALES[si], int(self.votes[c]), q, i.astype(np.float32)
        )


class FingerprintIndex:
    """Pair hashes of many items, sorted by key, with the item each came from and its anchor
    time; ``query`` searches the audio under the app's transpositions and tempo ratios."""

    def __init__(
        self, keys: NDArray[np.int64], items: NDArray[np.int32], times: NDArray[np.float32]
    ) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = np.ascontiguousarray(keys[order])
        self.items = np.ascontiguousarray(items[order])
        self.times = np.ascontiguousarray(times[order])
        self._present = _bits(self.keys)
        entries = np.bincount(self.items) if self.items.size else np.zeros(0, np.int64)
        self._entries = np.maximum(entries, 1).astype(np.float64)  # per item

    @classmethod
    def build(
        cls, hashes: list[tuple[int, Hashes]], songs_of: NDArray[np.int32] | None = None
    ) -> FingerprintIndex:
        """The index of items' hashes. A hash found in the recordings of many songs
        (``songs_of[item]`` is an item's song) is common material (an accompaniment pattern, a
        drum pattern, one long note of a sampled instrument) that names no song: it is left out."""
        if not hashes:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))
        keys = np.concatenate([h.keys for _, h in hashes]).astype(np.int64)
        items = np.concatenate([np.full(len(h), i, np.int32) for i, h in hashes])
        times = np.concatenate([h.times for _, h in hashes]).astype(np.float32)
        songs = items if songs_of is None else songs_of[items]
        n_songs = int(np.unique(songs).size)
        pairs = np.unique(keys * (1 << 24) + songs)
        k, n = np.unique(pairs >> 24, return_counts=True)
        common = k[n > max(COMMON_SONGS, COMMON_FRACTION * n_songs)]
        keep = ~np.isin(keys, common)
        return cls(keys[keep], items[keep], times[keep])

    def __len__(self) -> int:
        return int(self.keys.size)

    def _lookup(self, keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(query index, entry index) of every entry holding one of ``keys``."""
        # Most keys of a search are in no entry: a bit per key value tells which are, and only
        # those are searched for, sorted (numpy's binary search starts from the last needle's
        # place, and the table's pages are read in order).
        held = np.flatnonzero(self._holds(keys))
        needles = keys[held]
        order = np.argsort(needles, kind="stable")
        lo, n = np.empty_like(order), np.empty_like(order)
        lo[order] = np.searchsorted(self.keys, needles[order], side="left")
        n[order] = np.searchsorted(self.keys, needles[order], side="right") - lo[order]
        total = int(n.sum())
        qi = np.repeat(held, n)
        first = np.repeat(np.cumsum(n) - n, n)
        return qi, np.repeat(lo, n) + (np.arange(total) - first)

    def _holds(self, keys: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether each key is in some entry (exact: a bit per key value)."""
        ok = (keys >= 0) & (keys < self._present.size * 8)
        k = np.where(ok, keys, 0)
        return ok & ((self._present[k >> 3] >> (k & 7).astype(np.uint8)) & 1).astype(bool)

    def votes(self, p: Peaks, fan: int = FAN) -> CellVotes | None:
        """Every cell's votes (item, transposition, tempo ratio and offset) for the audio's
        peaks under every transposition and tempo ratio of the search; None without matches."""
        if len(p) < 2 or len(self) == 0:
            return None
        n_off = int(np.ceil((float(self.times.max()) + 4 * float(p.times.max())) / _OFF)) + 4
        cells: list[NDArray[np.int64]] = []
        qtimes: list[NDArray[np.float32]] = []
        itimes: list[NDArray[np.float32]] = []
        variants = sorted(variant_keys(p, fan), key=lambda v: (v[0], v[1]))
        for k, si, keys, anchor in variants:
            qi, e = self._lookup(keys)
            if qi.size == 0:
                continue
            off = np.floor((self.times[e] - anchor[qi]) / _OFF).astype(np.int64) + n_off // 2
            variant = (k + MAX_SHIFT) * len(SCALES) + si
            cells.append((self.items[e].astype(np.int64) * _N_VARIANTS + variant) * n_off + off)
            qtimes.append(anchor[qi] * SCALES[si])
            itimes.append(self.times[e])
        if not cells:
            return None
        cell = np.concatenate(cells)
        uniq, inverse, raw = np.unique(cell, return_inverse=True, return_counts=True)
        q_all = np.concatenate(qtimes)
        # A cell's votes are the moments of the audited audio it explains (QBIN_S each), not
        # its matches: one long note of the same sampled instrument in two songs matches many
        # times in a fraction of a second, a reused recording matches across its whole length.
        moment = np.floor(q_all * (FRAME_S / QBIN_S)).astype(np.int64)
        distinct = np.unique(inverse.astype(np.int64) * (1 << 20) + moment)
        counts = np.bincount(distinct >> 20, minlength=uniq.size)
        # A stretch's votes straddle two offset bins: add each bin's next one.
        nxt = np.searchsorted(uniq, uniq + 1)
        has = (nxt < uniq.size) & (uniq[np.minimum(nxt, uniq.size - 1)] == uniq + 1)
        pair_votes = counts + np.where(has, counts[np.minimum(nxt, uniq.size - 1)], 0)
        return CellVotes(
            uniq, n_off, pair_votes, nxt, has, inverse, raw, q_all, np.concatenate(itimes)
        )

    def rank(self, v: CellVotes, power: float = DENSITY_POWER) -> NDArray[np.float64]:
        """What cells are verified by, best first: votes over the ``power`` of their item's
        entries (see DENSITY_POWER; 0: votes alone)."""
        return v.votes / self._entries[v.items] ** power

    def search(self, p: Peaks, take: bool, v: CellVotes | None = None) -> list[Cluster]:
        """A take's search, or the user's audio's (see DENSITY_POWER); ``v``: its votes, when
        already counted."""
        if take:
            return self.query(p, TAKE_MIN_VOTES, power=DENSITY_POWER, v=v)
        return self.query(p, v=v)

    def query(
        self,
        p: Peaks,
        min_votes: int = MIN_VOTES,
        fan: int = FAN,
        limit: int = 400,
        power: float = 0.0,
        v: CellVotes | None = None,
    ) -> list[Cluster]:
        """Clusters of matches under every transposition and tempo ratio of the search, the
        first ``limit`` of them by ``rank`` (``power`` 0: by votes); ``v``: the votes of ``p``
        when already counted."""
        v = v if v is not None else self.votes(p, fan)
        if v is None:
            return []
        order = np.argsort(-self.rank(v, power), kind="stable")
        order = order[v.votes[order] >= min_votes]
        used: set[int] = set()
        clusters: list[Cluster] = []
        for c in order[:limit]:
            c = int(c)
            members = [c] + ([int(v.nxt[c])] if v.has[c] else [])
            if any(m in used for m in members):
                continue
            used.update(members)
            clusters.append(v.cluster(c))
        return clusters


def _bits(sorted_keys: NDArray[np.int64]) -> NDArray[np.uint8]:
    """A bit per key value from 0 to the largest key: set where the table holds it (tens of
    MB for a catalogue's index, an eighth of the key space at most)."""
    u = sorted_keys[sorted_keys >= 0]
    if u.size == 0:
        return np.zeros(0, np.uint8)
    u = u[np.concatenate([[True], u[1:] != u[:-1]])]
    byte = u >> 3
    bit = np.left_shift(1, u & 7).astype(np.uint8)
    starts = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
    out = np.zeros(int(byte[-1]) + 1, np.uint8)
    out[byte[starts]] = np.bitwise_or.reduceat(bit, starts)
    return out


_OFF = OFFSET_S / FRAME_S
_N_VARIANTS = (2 * MAX_SHIFT + 1) * len(SCALES)


def scale_benchmark(
    n_segments: int, entries_per_segment: int = 100, seed: int = 0
) -> dict[str, float]:
    """Lookup cost of one 30 s audit's keys (every transposition and tempo of the search) in a
    table of ``n_segments`` one-second segments with synthetic random hashes: the memory of the
    table and the seconds one search's lookups take (``benchmarks/audit.py``)."""
    rng = np.random.default_rng(seed)
    n = n_segments * entries_per_segment
    key_space = N_BINS * N_DF * N_DF * N_DT * N_DT
    keys = np.sort(rng.integers(0, key_space, n, dtype=np.int64))
    queries = rng.integers(0, key_space, 30 * 10 * FAN * 2 * len(SCALES) * (2 * MAX_SHIFT + 1))
    t0 = time.perf_counter()
    uniq = np.unique(queries)
    lo = np.searchsorted(keys, uniq, side="left")
    hits = int((np.searchsorted(keys, uniq, side="right") - lo).sum())
    seconds = time.perf_counter() - t0
    return {
        "entries": float(n),
        "table_bytes": float(n * (8 + 4 + 4)),
        "query_keys": float(queries.size),
        "lookup_s": seconds,
        "hits": float(hits),
    }
