"""Hidden excerpts (issue 15): what still tells them from clean music, and what finding it costs.

    PYTHONPATH=. .venv/bin/python benchmarks/audit_onsets.py --work /work/cache/audit-bench --every 5 --ranks

``--work`` is a folder the harness built (``benchmarks/audit.py``), with its audit index. For
every ``--every``-th hidden clip, the hidden song is looked for where a search that knew the
song, its transposition and its stretch would look: the song's own log spectrogram is moved by
that map (its bins by the transposition, its frames by the stretch; not the phase vocoder's
output, which no audit has) over the excerpt's part of the song, and that template is slid over
every place of the clip. Two ways of comparing are measured:

- **spectrum**: each frame's log spectrogram less its smooth envelope (an octave wide: EQ and
  level go), the frequencies that sound;
- **onsets**: the rise of that from one frame to the next (half-wave rectified), where new
  notes start. Music mixed over an excerpt adds its own sustained energy to every cell, but
  starts its notes elsewhere.

Each is a normalised correlation. The clean clips (every ``--every``-th) give the null: the same
template slid over each of them, standardised by all their places, and its best place per clean
clip; the bar is the 99th percentile of those bests (1 % false positives for this one song and
map). A hidden clip is found when its best place is over the bar. With ``--ranks`` each hidden
clip also gets the rank, by votes, of the landmark search's cell at the right item,
transposition and stretch among all its cells (``FingerprintIndex.query``, one vote is enough):
whether the index's search could nominate the right map for such a check (slow: ~8 s a clip).

Last, what a search that tried every map would cost: one FFT correlation of an 8 s window with
the onset maps of ``--cost-songs`` catalogue songs is timed, and scaled to the whole catalogue,
the windows of a 30 s clip (8 s, every 4 s), every tempo ratio and transposition of the search.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import map_coordinates, uniform_filter1d

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_report  # noqa: E402
import audit_score  # noqa: E402

from musicapp.attribution import landmarks as lm  # noqa: E402

ENVELOPE_BINS = 37  # an octave of log bins: a frame's smooth envelope (EQ, level)
RANGE_DB = 80.0  # cells further below the loudest are floored: silence is not a feature
FP_QUANTILE = 0.99
WINDOW_S, WINDOW_HOP_S, CLIP_S = 8.0, 4.0, 30.0  # the cost estimate's windows of a clip
SEARCH_LIMIT = 400  # cells the user's search verifies (``FingerprintIndex.query``)

Map = NDArray[np.float32]


def spectrogram(audio: NDArray[np.floating], sample_rate: int) -> Map:
    """The landmarks' log spectrogram (frames x bins, dB), floored RANGE_DB under its peak."""
    s = lm.log_spectrogram(lm.to_fp_rate(audio, sample_rate))
    return np.maximum(s, s.max() - RANGE_DB)


def spectrum(s: Map) -> Map:
    """Each frame less its smooth envelope: which frequencies sound, not how loud or how EQ'd."""
    return (s - uniform_filter1d(s, ENVELOPE_BINS, axis=1)).astype(np.float32)


def onsets(s: Map) -> Map:
    """Where that rises from one frame to the next: the notes that start."""
    c = spectrum(s)
    return np.maximum(np.diff(c, axis=0, prepend=c[:1]), 0.0).astype(np.float32)


def moved(s: Map, semitones: int, stretch: float, frames: int) -> Map:
    """``s`` as the map would put it: ``frames`` frames, frame t from the song's t / stretch,
    every bin up by the transposition (cells moved in from outside at the floor)."""
    t = np.arange(frames, dtype=np.float64) / stretch
    f = np.arange(s.shape[1], dtype=np.float64) - semitones * lm.BINS_PER_SEMITONE
    tt, ff = np.meshgrid(t, f, indexing="ij")
    out = map_coordinates(s, [tt, ff], order=1, mode="constant", cval=float(s.min()))
    return out.astype(np.float32)


def slide(template: Map, audio_map: Map) -> NDArray[np.float64]:
    """The normalised correlation of ``template`` with ``audio_map`` at every place where it
    fits whole (one value per start frame), by FFT."""
    n, bins = template.shape
    m = audio_map.shape[0]
    if m < n:
        return np.zeros(0)
    t = template.astype(np.float64) - float(template.mean())
    norm = float(np.sqrt((t * t).sum()))
    size = 1 << int(np.ceil(np.log2(m + n)))
    spec = np.conj(np.fft.rfft(t, size, axis=0)) * np.fft.rfft(audio_map, size, axis=0)
    num = np.fft.irfft(spec.sum(axis=1), size)[: m - n + 1]
    c = audio_map.astype(np.float64)
    s1 = np.concatenate([[0.0], np.cumsum(c.sum(axis=1))])
    s2 = np.concatenate([[0.0], np.cumsum((c * c).sum(axis=1))])
    w1, w2 = s1[n:] - s1[:-n], s2[n:] - s2[:-n]
    var = np.maximum(w2 - w1 * w1 / (n * bins), 1e-12)
    return num / (norm * np.sqrt(var) + 1e-12)


def template(song_map: Map, truth: dict[str, Any], frames: int) -> Map:
    """The excerpt's part of a song's spectrogram, moved by the clip's truth (at most
    ``frames`` long)."""
    f0 = int(truth["song_start_s"] / lm.FRAME_S)
    f1 = int(np.ceil(truth["song_end_s"] / lm.FRAME_S)) + 2
    stretch = float(truth["stretch"])
    n = min(int((f1 - f0 - 2) * stretch), frames)
    return moved(song_map[f0:f1], int(truth["semitones"]), stretch, n)


def found_by(
    templates: list[Map], hidden: list[Map], clean: list[Map]
) -> tuple[list[float], float]:
    """For each hidden clip's template: its best z over the hidden clip and its best z over
    each clean clip (both against that template's values over all clean places). Returns the
    hidden bests and the bar (the clean bests' FP_QUANTILE)."""
    best, null_best = [], []
    for t, h in zip(templates, hidden, strict=True):
        nulls = [v for v in (slide(t, c) for c in clean) if v.size]
        pooled = np.concatenate(nulls)
        mu, sd = float(pooled.mean()), float(pooled.std()) + 1e-12
        null_best += [(float(v.max()) - mu) / sd for v in nulls]
        v = slide(t, h)
        best.append((float(v.max()) - mu) / sd if v.size else 0.0)
    return best, float(np.quantile(null_best, FP_QUANTILE))


def right_cell_rank(auditor: Any, truth: dict[str, Any], audio: NDArray, sr: int) -> int:
    """Rank by votes of the search's cell at the hidden song's mix, transposition and stretch
    among all the audio's cells of song mixes (-1: no such cell)."""
    from musicapp.jobs import CancelToken, no_progress

    loaded = auditor._ready(no_progress, CancelToken())
    clusters = loaded.fingerprints.query(lm.peaks(audio, sr), min_votes=1, limit=10**8)
    mixes = [c for c in clusters if loaded.item_is_mix[c.item]]
    for rank, c in enumerate(mixes):
        if (
            loaded.item_song[c.item] == truth["song_id"]
            and c.semitones == int(truth["semitones"])
            and abs(np.log(c.scale / float(truth["stretch"]))) < 0.05
        ):
            return rank
    return -1


def search_cost(catalog: Any, n_songs: int) -> dict[str, float]:
    """Time one window's FFT correlation (one tempo ratio, all 13 transpositions at once) with
    the onset maps of ``n_songs`` songs end to end, and scale it to a whole search of a 30 s
    clip under the index's tempo grid (the part that grows with the catalogue scaled to it)."""
    songs = sorted(catalog.all_songs(), key=lambda s: s.id)
    total_s = sum(float(s.duration_s) for s in songs)
    t0 = time.perf_counter()
    maps = [onsets(spectrogram(np.asarray(catalog.load_audio(s.id)), s.sample_rate))
            for s in songs[:n_songs]]  # fmt: skip
    map_s = time.perf_counter() - t0
    joined = np.concatenate(maps).astype(np.float32)
    n = int(WINDOW_S / lm.FRAME_S)
    # Overlap-save: the catalogue's blocks are transformed once for every search; each tempo
    # ratio of each window then costs its 13 transposed copies' small transforms, the products
    # summed over bins for every block (one matrix product per frequency) and the inverse
    # transforms.
    size = 4 * 1 << int(np.ceil(np.log2(n)))
    hop = size - n + 1
    starts = range(0, joined.shape[0] - n + 1, hop)
    blocks = np.stack([np.pad(joined[a : a + size], ((0, max(0, a + size - len(joined))), (0, 0)))
                       for a in starts])  # fmt: skip
    catalogue = np.fft.rfft(blocks, axis=1).astype(np.complex64).transpose(1, 0, 2).copy()
    shifts = range(-lm.MAX_SHIFT, lm.MAX_SHIFT + 1)
    copies = np.stack([np.roll(joined[:n], k * lm.BINS_PER_SEMITONE, axis=1) for k in shifts])
    repeats = 3
    own = grown = 0.0  # the window's transforms; the products and inverse transforms
    for i in range(repeats + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        w = np.conj(np.fft.rfft(copies, size, axis=1)).astype(np.complex64).transpose(1, 2, 0)
        t1 = time.perf_counter()
        np.fft.irfft(np.matmul(catalogue, w), size, axis=0)[:hop]
        if i:
            own, grown = own + (t1 - t0) / repeats, grown + (time.perf_counter() - t1) / repeats
    share = joined.shape[0] * lm.FRAME_S / total_s
    windows = int((CLIP_S - WINDOW_S) / WINDOW_HOP_S) + 1
    variants = len(lm.SCALES) * len(shifts)
    macs = windows * variants * (total_s / lm.FRAME_S) * (WINDOW_S / lm.FRAME_S) * lm.N_BINS
    return {
        "songs": float(len(maps)),
        "catalogue_s": total_s,
        "onset_maps_s": map_s,
        "one_correlation_s": own + grown,
        "per_clip_s": (own + grown / share) * windows * len(lm.SCALES),
        "direct_macs": macs,
        "windows": float(windows),
        "variants": float(variants),
    }


def table(rows: list[dict[str, float]], bars: dict[str, float], ranks: bool) -> str:
    bands = [("all", -99.0, 99.0)] + [
        (f"{lo:g}..{hi:g} dB", lo, hi) for lo, hi in audit_report.GAIN_BANDS
    ]
    head = "| gain | clips | onsets: z p50 | found | spectrum: z p50 | found |"
    rule = "|---|---|---|---|---|---|"
    if ranks:
        head += f" right cell's rank p50 | in the first {SEARCH_LIMIT} |"
        rule += "---|---|"
    out = [head, rule]
    for name, lo, hi in bands:
        rs = [r for r in rows if lo <= r["gain_db"] < hi]
        if not rs:
            continue
        line = f"| {name} | {len(rs)} |"
        for kind in ("onsets", "spectrum"):
            zs = [r[kind] for r in rs]
            hit = statistics.fmean(float(z >= bars[kind]) for z in zs)
            line += f" {statistics.median(zs):.1f} | {100 * hit:.0f} % |"
        if ranks:
            rk = [r["rank"] if r["rank"] >= 0 else float("inf") for r in rs]
            first = statistics.fmean(float(k < SEARCH_LIMIT) for k in rk)
            line += f" {statistics.median(rk):,.0f} | {100 * first:.0f} % |"
        out.append(line)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--every", type=int, default=5, help="every k-th hidden and clean clip")
    ap.add_argument("--ranks", action="store_true", help="also the search's rank of the map")
    ap.add_argument("--cost-songs", type=int, default=100)
    args = ap.parse_args(argv)
    every = max(1, args.every)
    hidden_paths = sorted((args.work / "clips").glob("hidden-*.json"))[::every]
    clean_paths = sorted((args.work / "clips").glob("clean-*.json"))[::every]
    if not hidden_paths or not clean_paths:
        raise SystemExit(f"{args.work / 'clips'}: no hidden or no clean clips there")
    from musicapp.attribution.auditor import Auditor, audit_index_path
    from musicapp.context import AppContext

    settings = audit_score.settings_for(args.work / "data")
    clean = [spectrogram(*audit_score.read(p.with_suffix(".flac"))) for p in clean_paths]
    rows: list[dict[str, float]] = []
    maps: dict[str, tuple[list[Map], list[Map]]] = {"onsets": ([], []), "spectrum": ([], [])}
    with AppContext.open(settings) as ctx:
        auditor = Auditor(audit_index_path(settings.catalog_path), ctx.catalog)
        try:
            for path in hidden_paths:
                truth = json.loads(path.read_text())
                audio, sr = audit_score.read(path.with_suffix(".flac"))
                clip = spectrogram(audio, sr)
                song = ctx.catalog.song(truth["song_id"])
                song_map = spectrogram(
                    np.asarray(ctx.catalog.load_audio(song.id)), song.sample_rate
                )
                moved_song = template(song_map, truth, clip.shape[0] - 1)
                for kind, fn in (("onsets", onsets), ("spectrum", spectrum)):
                    maps[kind][0].append(fn(moved_song))
                    maps[kind][1].append(fn(clip))
                row = {"gain_db": float(truth["gain_db"])}
                if args.ranks:
                    row["rank"] = float(right_cell_rank(auditor, truth, audio, sr))
                rows.append(row)
            bars = {}
            for kind, fn in (("onsets", onsets), ("spectrum", spectrum)):
                best, bars[kind] = found_by(*maps[kind], [fn(c) for c in clean])
                for row, z in zip(rows, best, strict=True):
                    row[kind] = z
            cost = search_cost(ctx.catalog, args.cost_songs)
        finally:
            auditor.close()
    print(f"{len(rows)} hidden and {len(clean)} clean clips of {args.work}; the bar (1 % FP on "
          f"clean clips, one song and map): onsets z {bars['onsets']:.2f}, "
          f"spectrum z {bars['spectrum']:.2f}\n")  # fmt: skip
    print(table(rows, bars, args.ranks))
    print(
        f"\nA search of every map (one 8 s window's FFT correlation, 13 transpositions, "
        f"with {cost['songs']:.0f} songs' onset maps: {cost['one_correlation_s']:.3f} s; "
        f"their onset maps took {cost['onset_maps_s']:.1f} s): {cost['windows']:.0f} windows x "
        f"{cost['variants']:.0f} maps over {cost['catalogue_s']:,.0f} s of catalogue = "
        f"{cost['per_clip_s']:,.0f} s per 30 s clip on this machine "
        f"({cost['direct_macs']:.2e} multiply-adds if done directly)"
    )


if __name__ == "__main__":
    main()
