"""Why the audit misses hidden excerpts (issue 15): each hidden clip's excerpt looked at where
the harness put it, so detection (does the search nominate it?) and verification (would the
check believe it?) can be told apart.

    PYTHONPATH=. .venv/bin/python benchmarks/audit_oracle.py --work /tmp/aq/quick

``--work`` is a folder the harness built, with its audit index. For every hidden clip (every
``--every``-th), the hidden song's mix is mapped onto the clip by the clip's own truth (its
transposition, stretch and offset), and measured there:

- **oracle z**: the verification's z (``verify.evidence``, its strongest run) at that map: what
  the check would say if the search had nominated exactly the right cluster;
- **peaks kept**: the share of the excerpt's own peaks that are still peaks of the clip (within
  a peak's tolerance): what mixing, the phase vocoder and the codec left for the hashes;
- **nominated**: whether the search (all its clusters, none cut) has one of the song at the
  clip's transposition and tempo ratio with at least ``landmarks.MIN_VOTES`` moments;
- **found**: ``find_material`` found the song.

Prints a table by gain band: clips, found, nominated, oracle z p50 and the share at the
material bar (z ≥ 14: a perfect search would find those), peaks kept p50.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_report  # noqa: E402
import audit_score  # noqa: E402

from musicapp.attribution import calibration as cal  # noqa: E402
from musicapp.attribution import landmarks as lm  # noqa: E402
from musicapp.attribution import verify  # noqa: E402
from musicapp.attribution.auditor import Auditor, audit_index_path  # noqa: E402
from musicapp.context import AppContext  # noqa: E402
from musicapp.jobs import CancelToken, no_progress  # noqa: E402


def look(auditor: Auditor, truth: dict, audio: np.ndarray, sr: int) -> dict[str, float]:
    """The oracle figures of one hidden clip (``truth``: its JSON)."""
    loaded = auditor._ready(no_progress, CancelToken())
    items = [
        i
        for i, song in enumerate(loaded.item_song)
        if song == truth["song_id"] and loaded.item_is_mix[i]
    ]
    if not items or loaded.item_peaks[items[0]] is None:
        raise SystemExit(f"{truth['name']}: {truth['song_id']} has no indexed mix with peaks")
    item = items[0]
    peaks = loaded.item_peaks[item]
    assert peaks is not None
    x = audio.astype(np.float32)
    salience = verify.Salience.of(x, sr)
    semis, stretch = int(truth["semitones"]), float(truth["stretch"])
    offset = float(truth["start_s"]) - stretch * float(truth["song_start_s"])
    q = np.arange(float(truth["start_s"]), float(truth["end_s"]), lm.QBIN_S, dtype=np.float32)
    oracle = lm.Cluster(item, semis, stretch, 0, q, ((q - offset) / stretch).astype(np.float32))
    evidence = verify.evidence(oracle, peaks, salience, loaded.item_bar_s[item])
    _, _, z = evidence.run(verify.RUN_LIFT_DB)

    # The excerpt's own peaks, mapped onto the clip: how many are still peaks there.
    audio_peaks = lm.peaks(x, sr)
    t_item = peaks.times * lm.FRAME_S
    inside = (t_item >= truth["song_start_s"]) & (t_item <= truth["song_end_s"])
    t = np.rint((t_item[inside] * stretch + offset) / lm.FRAME_S).astype(np.int64)
    f = peaks.bins[inside].astype(np.int64) + semis * lm.BINS_PER_SEMITONE
    ok = (t >= 0) & (t < salience.frames) & (f >= 0) & (f < lm.N_BINS)
    grid = np.zeros((salience.frames + 1, lm.N_BINS), bool)
    grid[np.minimum(audio_peaks.times, salience.frames), audio_peaks.bins] = True
    near = maximum_filter(grid, size=(2 * verify.TOL_FRAMES + 1, 2 * verify.TOL_BINS + 1))
    kept = float(near[t[ok], f[ok]].mean()) if ok.any() else 0.0

    clusters = loaded.fingerprints.query(audio_peaks, min_votes=1, limit=1_000_000)
    right = [
        c.votes
        for c in clusters
        if c.item == item and c.semitones == semis and abs(np.log(c.scale / stretch)) < 0.05
    ]
    return {
        "gain_db": float(truth["gain_db"]),
        "oracle_z": float(z),
        "kept": kept,
        "nominated": float(max(right, default=0) >= lm.MIN_VOTES),
        "found": float(truth["song_id"] in {f.song_id for f in auditor.find_material(x, sr)}),
    }


def table(rows: list[dict[str, float]]) -> str:
    bands = [("all", -99.0, 99.0)] + [
        (f"{lo:g}..{hi:g} dB", lo, hi) for lo, hi in audit_report.GAIN_BANDS
    ]
    out = [
        "| gain | clips | found | nominated | oracle z p50 | oracle z >= 14 | peaks kept p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, lo, hi in bands:
        rs = [r for r in rows if lo <= r["gain_db"] < hi]
        if not rs:
            continue

        def share(key: str, rs: list[dict[str, float]] = rs) -> str:
            return f"{100 * statistics.fmean(r[key] for r in rs):.0f} %"

        z = [r["oracle_z"] for r in rs]
        at_bar = statistics.fmean(float(v >= cal.MATERIAL_MIN_Z) for v in z)
        out.append(
            f"| {name} | {len(rs)} | {share('found')} | {share('nominated')} | "
            f"{statistics.median(z):.1f} | {100 * at_bar:.0f} % | "
            f"{statistics.median(r['kept'] for r in rs):.2f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--every", type=int, default=1, help="look at every k-th hidden clip")
    args = ap.parse_args(argv)
    paths = sorted((args.work / "clips").glob("hidden-*.json"))[:: max(1, args.every)]
    if not paths:
        raise SystemExit(f"{args.work / 'clips'}: no hidden clips there")
    settings = audit_score.settings_for(args.work / "data")
    rows = []
    with AppContext.open(settings) as ctx:
        auditor = Auditor(audit_index_path(settings.catalog_path), ctx.catalog)
        try:
            for path in paths:
                audio, sr = audit_score.read(path.with_suffix(".flac"))
                rows.append(look(auditor, json.loads(path.read_text()), audio, sr))
        finally:
            auditor.close()
    print(f"{len(rows)} hidden clips of {args.work}")
    print(table(rows))


if __name__ == "__main__":
    main()
