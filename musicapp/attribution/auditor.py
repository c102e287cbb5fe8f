"""The audit of any audio against the catalogue: fingerprints, segment embeddings, and the
non-negative decomposition that turns their candidates into influence vectors.

Two detectors, one grid (a segment a second):

- **fingerprints** (``landmarks.py``) find recordings reused outright, under the transpositions
  and tempo ratios the app applies; a cluster of consistent matches is one stretch of one song,
  its probability calibrated from its votes (``calibration.py``);
- **embeddings** (``segments.py``) find likeness: each segment's nearest catalogue windows,
  their probabilities a calibrated softmax with a "none of these" option, and the segment's
  vector decomposed over them (non-negative least squares) into an influence vector.

The combination trusts the fingerprints where they found a recording, and gives likeness alone
a small weight (``DECOMPOSITION_WEIGHT``): a style is not a recording, and attribution by design
pays for what was used, not for what it resembles.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from musicapp.attribution import calibration as cal
from musicapp.attribution import landmarks as lm
from musicapp.attribution import verify
from musicapp.attribution.index_store import AuditStore, SongIndex
from musicapp.attribution.keyed import Keyed
from musicapp.attribution.segments import (
    FeatureSegments,
    SegmentEmbedder,
    decompose,
    grid,
    standardise,
    windows,
)
from musicapp.attribution.types import (
    EMBEDDING,
    FINGERPRINT,
    NOTHING_FOUND,
    AuditResult,
    AuditStatus,
    Candidate,
    Finding,
    Segment,
)
from musicapp.jobs import CancelToken, Progress, ProgressCallback, no_progress

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore

log = logging.getLogger(__name__)

BASELINE = "baseline"  # plain similarity: each segment's nearest catalogue window, no detectors
FINGERPRINTS = "fingerprints"
DECOMPOSITION = "decomposition"
COMBINED = "combined"
METHODS = (BASELINE, FINGERPRINTS, DECOMPOSITION, COMBINED)
METHOD_WORDS = {
    BASELINE: "plain similarity (baseline)",
    FINGERPRINTS: "fingerprints",
    DECOMPOSITION: "embedding decomposition",
    COMBINED: "fingerprints + decomposition",
}

SILENCE_RMS = 1e-4  # -80 dBFS: quieter segments are silence
TOP_K = 5  # candidates kept per segment
NEIGHBOURS = 10  # catalogue windows a segment is decomposed over
DECOMPOSITION_WEIGHT = 0.3  # likeness counts this much where no recording was found
# Within a segment, recordings share it by p × lift³ (lift: how far their peaks stand out there,
# dB): the one whose notes are really sounding outweighs one that only shares its key.
LIFT_POWER = 3.0
EDGE_S = 0.2  # a cluster's points this near a segment count in its share of it
SEARCHES = 2  # the fingerprint search runs again without what it found, this often in all
FINGERPRINT_NAME = "landmark triplets, searched over ±6 semitones and ±25 % tempo"


def audit_index_path(catalog_path: Path) -> Path:
    """``<catalogue>-audit.sqlite`` beside the catalogue (rebuildable from it)."""
    return catalog_path.with_name(f"{catalog_path.stem}-audit.sqlite")


@dataclass
class _Loaded:
    """The index in memory."""

    fingerprints: lm.FingerprintIndex
    item_song: list[str]
    item_peaks: list[lm.Peaks | None]  # each item's own peaks, to verify a match
    item_bar_s: list[float | None]  # and its song's bar, where the catalogue knows it
    item_is_mix: list[bool]  # the song's mix (not one of its stems)
    window_song: list[str]
    window_centre: NDArray[np.float32]
    vectors: NDArray[np.float32]  # standardised, one per window
    mean: NDArray[np.float32]
    std: NDArray[np.float32]
    songs: int
    keyed: Keyed  # each item's song's key and tempo: where a take's references lie


class Auditor:
    """Audits audio against one catalogue; its index is ``AuditStore`` on disk, loaded once."""

    def __init__(
        self,
        index_path: Path,
        catalog: CatalogStore,
        embedder: Callable[[], SegmentEmbedder] | None = None,
        searches: int = SEARCHES,
    ) -> None:
        self.index_path = Path(index_path)
        self.searches = max(1, int(searches))
        self.catalog = catalog
        self.store = AuditStore(self.index_path)
        self._make_embedder = embedder or FeatureSegments
        self._embedder: SegmentEmbedder | None = None
        self._loaded: _Loaded | None = None
        self._stamp: int | None = None  # catalog.songs_stamp() when the index was last caught up
        self._lock = threading.RLock()
        self._last_clusters: tuple[str, list[tuple[lm.Cluster, float, float]]] | None = None

    @property
    def embedder(self) -> SegmentEmbedder:
        if self._embedder is None:
            self._embedder = self._make_embedder()
        return self._embedder

    def status(self) -> AuditStatus:
        return AuditStatus(
            songs=self.catalog.count(),
            indexed=self.store.count(),
            embedder=self.embedder.name,
            fingerprints=FINGERPRINT_NAME,
        )

    def close(self) -> None:
        self.store.close()

    # -- the index ------------------------------------------------------------------------------

    def catch_up(
        self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> int:
        """Index the catalogue songs the index lacks (and drop songs no longer there); returns
        how many were added. Resumable: a cancelled run keeps what it finished."""
        cancel = cancel or CancelToken()
        with self._lock:
            stamp = self.catalog.songs_stamp()
            key = f"{self.embedder.name}:{self.embedder.dim}:{lm.FORMAT}"
            if self.store.meta("embedder") != key:
                self.store.clear()
                self.store.set_meta("embedder", key)
            ids = self.catalog.song_ids()
            have = self.store.song_ids()
            gone = have - set(ids)
            if gone:
                self.store.remove(gone)
            todo = [s for s in ids if s not in have]
            for n, song_id in enumerate(todo):
                cancel.check()
                progress(Progress(n / max(1, len(todo)), "audit index", f"Indexing {song_id}"))
                self.store.put(self._index_song(song_id))
            if todo or gone or self._loaded is None:
                self._loaded = None
            self._stamp = stamp
            progress(Progress(1.0, "audit index", f"{len(ids)} songs indexed"))
            return len(todo)

    def _index_song(self, song_id: str) -> SongIndex:
        song = self.catalog.song(song_id)
        empty = SongIndex(song_id, 0.0, {}, [], np.zeros((0, self.embedder.dim), np.float32))
        if song is None:
            return empty
        try:
            mix = self.catalog.load_audio(song_id)
            items = {"mix": lm.item_hashes(mix, song.sample_rate)}
            for stem in song.stems:
                audio = self.catalog.load_audio(song_id, stem=stem.name)
                items[f"stem:{stem.name}"] = lm.item_hashes(audio, song.sample_rate)
        except (OSError, ValueError, RuntimeError) as e:  # unreadable audio: indexed empty
            log.warning("audit index: %s: its audio cannot be read (%s)", song_id, e)
            return empty
        duration = mix.shape[1] / song.sample_rate
        centres = windows(duration)
        vectors = self.embedder.embed(mix, song.sample_rate, centres)
        return SongIndex(song_id, duration, items, centres, vectors)

    def _ready(self, progress: ProgressCallback, cancel: CancelToken) -> _Loaded:
        with self._lock:
            if self._stamp != self.catalog.songs_stamp() or self.store.count() == 0:
                self.catch_up(progress, cancel)
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> _Loaded:
        item_song: list[str] = []
        item_peaks: list[lm.Peaks | None] = []
        hashes: list[tuple[int, lm.Hashes]] = []
        item_is_mix: list[bool] = []
        for song_id, item, h in self.store.items():
            hashes.append((len(item_song), h))
            item_song.append(song_id)
            item_peaks.append(h.peaks)
            item_is_mix.append(item == "mix")
        song_ids = sorted(set(item_song))
        keyed = Keyed(item_song, self.catalog)
        number = {s: i for i, s in enumerate(song_ids)}
        songs_of = np.array([number[s] for s in item_song], np.int32)
        fingerprints = lm.FingerprintIndex.build(hashes, songs_of)
        window_song, centres, raw = self.store.windows()
        if raw.size:
            mean = raw.mean(axis=0).astype(np.float32)
            std = raw.std(axis=0)
            std = np.where(std > 1e-6, std, 1.0).astype(np.float32)
            vectors = standardise(raw, mean, std)
        else:
            dim = self.embedder.dim
            mean, std = np.zeros(dim, np.float32), np.ones(dim, np.float32)
            vectors = np.zeros((0, dim), np.float32)
        return _Loaded(
            fingerprints, item_song, item_peaks, keyed.bar_s, item_is_mix, window_song, centres, vectors, mean, std,
            len(self.store.song_ids()), keyed,
        )  # fmt: skip

    # -- audits ---------------------------------------------------------------------------------

    def audit(
        self,
        audio: np.ndarray,
        sample_rate: int,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        method: str = COMBINED,
        user_audio: bool = False,
    ) -> AuditResult:
        """The audit of float ``(channels, samples)`` audio at ``sample_rate``.

        ``method`` is one of METHODS: the combination (the app's), or one detector alone for
        the evaluation harness: plain similarity (the baseline), fingerprints alone, or the
        decomposition of segment embeddings alone. ``user_audio``: audio of the user's (a
        file, not a take), where a recording is found only at ``find_material``'s bar, so the
        audit never claims what would not refuse the same audio."""
        if method not in METHODS:
            from musicapp.core import InvalidInput

            raise InvalidInput(f"audit method must be one of {', '.join(METHODS)}, not {method!r}")
        cancel = cancel or CancelToken()
        started = time.perf_counter()
        x = _as_audio(audio, sample_rate)
        loaded = self._ready(progress, cancel)
        progress(Progress(0.1, "audit", "Listening for reused recordings"))
        duration = x.shape[1] / sample_rate
        segs = grid(duration)
        clusters: list[tuple[lm.Cluster, float]] = []
        if method in (FINGERPRINTS, COMBINED):
            clusters = [(c, p) for c, p, _ in self._clusters(loaded, x, sample_rate, user_audio)]
        cancel.check()
        progress(Progress(0.6, "audit", "Comparing segments with the catalogue"))
        likeness: list[tuple[list[Candidate], dict[str, float]]] = []
        if method != FINGERPRINTS and loaded.vectors.size:
            likeness = self._likeness(loaded, x, sample_rate, segs, method == BASELINE)
        cancel.check()
        segments = []
        # Found somewhere in the piece: its weaker matches elsewhere are its too (corroborated).
        piece = {loaded.item_song[c.item] for c, p in clusters if p >= cal.FOUND}
        for i, (a, b) in enumerate(segs):
            fp_cands, fp_influence = _fingerprint_evidence(clusters, loaded, a, b, piece)
            emb_cands, emb_influence = likeness[i] if likeness else ([], {})
            if method == COMBINED:
                influence = fp_influence or {
                    s: v * DECOMPOSITION_WEIGHT for s, v in emb_influence.items()
                }
            elif method == FINGERPRINTS:
                influence = fp_influence
            else:
                influence = emb_influence
            candidates = sorted(fp_cands + emb_cands, key=lambda c: -c.probability)[:TOP_K]
            segments.append(Segment(a, b, tuple(candidates), influence))
        whole: dict[str, float] = {}
        for seg in segments:
            for song, v in seg.influence.items():
                whole[song] = whole.get(song, 0.0) + v * (seg.end_s - seg.start_s) / duration
        progress(Progress(1.0, "audit", "Audit done"))
        findings = _findings(clusters, loaded)
        looked = user_audio and method in (FINGERPRINTS, COMBINED)
        return AuditResult(
            duration_s=duration,
            sample_rate=sample_rate,
            segments=tuple(segments),
            influence=dict(sorted(whole.items(), key=lambda kv: -kv[1])),
            findings=findings,
            method=METHOD_WORDS[method],
            embedder=self.embedder.name if method != FINGERPRINTS else "",
            catalogue_songs=loaded.songs,
            notes=(NOTHING_FOUND,) if looked and not findings else (),
            elapsed_s=time.perf_counter() - started,
        )

    def find_material(
        self, audio: np.ndarray, sample_rate: int, cancel: CancelToken | None = None
    ) -> tuple[Finding, ...]:
        """Catalogue recordings found outright in the audio (fingerprints only): for the
        user's own audio before an audio- or temporal-level take."""
        cancel = cancel or CancelToken()
        loaded = self._ready(no_progress, cancel)
        clusters = self._clusters(
            loaded, _as_audio(audio, sample_rate), sample_rate, user_audio=True
        )
        return _findings([(c, p) for c, p, _ in clusters], loaded)

    def _clusters(
        self, loaded: _Loaded, x: NDArray[np.float32], sample_rate: int, user_audio: bool = False
    ) -> list[tuple[lm.Cluster, float, float]]:
        """The fingerprint clusters worth reporting. Votes only nominate: each cluster is
        checked against the audio itself (``verify.py``) and narrowed to the seconds that hold
        its recording; it comes with its calibrated probability (in the user's audio, found
        only at the material bar; not found where a stronger recording explains it) and its
        verification's z. The last answer is kept: one audio audited by several methods is
        searched once."""
        digest = hashlib.sha1(x.tobytes()).hexdigest() + f":{sample_rate}:{id(loaded)}:{user_audio}"
        if self._last_clusters is not None and self._last_clusters[0] == digest:
            return self._last_clusters[1]
        spec = lm.log_spectrogram(lm.to_fp_rate(x, sample_rate))
        peaks = lm.spectral_peaks(spec)
        salience, also = verify.Salience.for_check(spec, peaks, take=not user_audio)
        scale = cal.USER if user_audio else cal.TAKE  # what its z means
        checked: list[tuple[lm.Cluster, float]] = []
        votes = loaded.fingerprints.votes(peaks)
        found = loaded.fingerprints.search(peaks, take=not user_audio, v=votes)
        for n in range(self.searches):
            new = verify.check(found, loaded.item_peaks, salience, loaded.item_bar_s, also)
            checked += new
            out = cal.probabilities(checked, loaded.item_song, loaded.item_is_mix, scale)
            sure = [c for c, p, _ in out[len(checked) - len(new) :] if p >= cal.FOUND]
            if not sure or n == self.searches - 1:
                break
            # Again without what was found: a quieter layer under it keeps too few triplets.
            peaks = verify.unexplained(peaks, sure, loaded.item_peaks, salience.frames)
            found = loaded.fingerprints.search(peaks, take=not user_audio)
        if not user_audio and votes is not None:  # at the take's one key and tempo (keyed.py)
            more = loaded.keyed.clusters(x, sample_rate, votes, out, loaded.item_is_mix)
            checked += verify.check(more, loaded.item_peaks, salience, loaded.item_bar_s, also)
            out = cal.probabilities(checked, loaded.item_song, loaded.item_is_mix, scale)
        if user_audio:  # refused only for a song's mix whose own peaks stand out, run after
            # run: an arrangement's drone, drum pattern or bass line (a stem) names no song.
            mix = loaded.item_is_mix
            out = [(c, cal.user_probability(p, z, c.votes, mix[c.item]), z) for c, p, z in out]
        out = verify.explained_away(out, loaded.item_song, loaded.item_peaks, salience,
                                    loaded.item_bar_s, also, cal.FOUND, cal.LONE_CAP)  # fmt: skip
        kept = [(c, p, z) for c, p, z in out if p >= cal.MIN_PROBABILITY]
        self._last_clusters = (digest, kept)
        return kept

    def _likeness(
        self,
        loaded: _Loaded,
        x: NDArray[np.float32],
        sample_rate: int,
        segs: list[tuple[float, float]],
        nearest_only: bool,
    ) -> list[tuple[list[Candidate], dict[str, float]]]:
        raw = self.embedder.embed(x, sample_rate, [(a + b) / 2 for a, b in segs])
        q = standardise(raw, loaded.mean, loaded.std)
        # Silence resembles nothing: its segments get no candidates and no influence.
        frames = [
            x[:, int(a * sample_rate) : max(int(a * sample_rate) + 1, int(b * sample_rate))]
            for a, b in segs
        ]
        audible = [float(np.sqrt(np.mean(f.astype(np.float64) ** 2))) > SILENCE_RMS for f in frames]
        k = min(NEIGHBOURS, len(loaded.vectors))
        sims = q @ loaded.vectors.T
        top = np.argsort(-sims, axis=1)[:, :k]
        out: list[tuple[list[Candidate], dict[str, float]]] = []
        half = 2.0
        for i in range(len(segs)):
            if not audible[i]:
                out.append(([], {}))
                continue
            idx = top[i]
            cos = sims[i, idx]
            probs, p_none = cal.window_probabilities(cos)
            cands: dict[str, Candidate] = {}
            for j, p in zip(idx, probs, strict=True):
                song = loaded.window_song[int(j)]
                if song not in cands:
                    c = float(loaded.window_centre[int(j)])
                    cands[song] = Candidate(
                        song, max(0.0, c - half), c + half, float(p), EMBEDDING, float(sims[i, j])
                    )
            if nearest_only:
                influence = {loaded.window_song[int(idx[0])]: 1.0}
            else:
                w, explained = decompose(q[i], loaded.vectors[idx])
                per_song: dict[str, float] = {}
                for j, wj in zip(idx, w, strict=True):
                    if wj > 0:
                        song = loaded.window_song[int(j)]
                        per_song[song] = per_song.get(song, 0.0) + float(wj)
                total = sum(per_song.values())
                scale = explained * (1.0 - p_none) / total if total > 0 else 0.0
                influence = {s: v * scale for s, v in per_song.items() if v * scale > 1e-4}
            out.append((list(cands.values())[:TOP_K], influence))
        return out


def _as_audio(audio: np.ndarray, sample_rate: int) -> NDArray[np.float32]:
    """Checked float32 (channels, samples): AudioError naming what is wrong, never a crash
    deep in the detectors."""
    from musicapp.audio.io import AudioError, as_audio

    if not isinstance(sample_rate, int | np.integer) or not 1_000 <= sample_rate <= 768_000:
        raise AudioError(f"sample_rate: must be 1,000–768,000 Hz, got {sample_rate!r}")
    x = as_audio(audio)
    if not np.isfinite(x).all():
        raise AudioError("audio: holds samples that are not finite numbers (NaN or infinity)")
    return x


def _fingerprint_evidence(
    clusters: list[tuple[lm.Cluster, float]],
    loaded: _Loaded,
    a: float,
    b: float,
    piece: Collection[str] = (),
) -> tuple[list[Candidate], dict[str, float]]:
    """The candidates the clusters give one segment [a, b), and its influence from them."""
    weights: dict[str, float] = {}
    best: dict[str, Candidate] = {}
    for c, p in clusters:
        # Only where its matches are: a cluster's span can bridge a gap it does not explain.
        inside = int(((c.query_s >= a - lm.QBIN_S) & (c.query_s < b + lm.QBIN_S)).sum())
        if inside == 0:
            continue
        song = loaded.item_song[c.item]
        if c.lift_db is None:  # not verified (an index without kept peaks): by its matches
            weights[song] = weights.get(song, 0.0) + p * (1 + inside)
        else:
            near = (c.query_s >= a - EDGE_S) & (c.query_s < b + EDGE_S)
            if near.any():
                lift = float(np.clip(c.lift_db[near], 0.0, None).mean())
                weights[song] = weights.get(song, 0.0) + p * lift**LIFT_POWER
        offset = float(np.median(c.item_s - c.query_s / c.scale))
        cand = Candidate(
            song, max(0.0, a / c.scale + offset), max(0.0, b / c.scale + offset), p,
            FINGERPRINT, float(c.votes), c.semitones, c.tempo_ratio,
        )  # fmt: skip
        if song not in best or p > best[song].probability:
            best[song] = cand
    total = sum(weights.values())
    if total <= 0:
        return list(best.values()), {}
    # A segment where a recording is found is that recording's (shared by weight where
    # several are); one where the best is only likely is attributed that much.
    sure = max(c.probability for c in best.values())
    amount = 1.0 if sure >= cal.FOUND or any(s in piece for s in best) else sure
    return list(best.values()), {s: amount * v / total for s, v in weights.items()}


def _findings(clusters: list[tuple[lm.Cluster, float]], loaded: _Loaded) -> tuple[Finding, ...]:
    """Recordings found with at least FOUND probability, one finding per song and stretch
    (clusters of one song closer than a second apart are one stretch)."""
    by_song: dict[str, list[tuple[lm.Cluster, float]]] = {}
    for c, p in clusters:
        if p >= cal.FOUND:
            by_song.setdefault(loaded.item_song[c.item], []).append((c, p))
    found: list[Finding] = []
    for song, group in by_song.items():
        group.sort(key=lambda cp: cp[0].span_s[0])
        run: list[tuple[lm.Cluster, float]] = []
        for cp in group:
            if run and cp[0].span_s[0] > max(r[0].span_s[1] for r in run) + 1.0:
                found.append(_finding(song, run))
                run = []
            run.append(cp)
        if run:
            found.append(_finding(song, run))
    return tuple(sorted(found, key=lambda f: (f.start_s, -f.probability)))


def _finding(song: str, run: list[tuple[lm.Cluster, float]]) -> Finding:
    main, p = max(run, key=lambda cp: cp[0].votes)
    start = min(c.span_s[0] for c, _ in run)
    # The last anchor is up to a target span before the material ends.
    end = max(c.span_s[1] for c, _ in run) + lm.TARGET_FRAMES[1] * lm.FRAME_S / 2
    return Finding(
        song, start, end, float(main.item_s.min()), float(main.item_s.max()),
        max(q for _, q in run), main.semitones, main.tempo_ratio,
    )  # fmt: skip
