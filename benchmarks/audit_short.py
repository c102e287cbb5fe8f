"""Short samples in the user's audio (issue 15's consent gap): is a few seconds of a catalogue
recording, reused outright the way producers sample, found before a take is made?

    PYTHONPATH=. .venv/bin/python benchmarks/audit_short.py --work /tmp/aq/quick --songs 16

``--work`` is a folder the harness built (``benchmarks/audit.py``), with its audit index and
held-out songs. For each of ``--songs`` catalogue songs (seeded), and each case below, a 30 s
clip of held-out material gets a sample of the song's mix (a random stretch of it, 10 ms
fades), at a gain relative to the material under it, once or looped back to back. Each clip is
then looked at the way ``benchmarks/audit_oracle.py`` looks at hidden clips:

- **found**: ``Auditor.find_material`` names the song (what refuses or adds it);
- **nominated**: the search has a cluster of the song's mix at the sample's transposition and
  tempo with at least ``landmarks.MIN_VOTES`` moments;
- **oracle z**: the verification's z at the sample's true map (its first time, for a loop);
- **stray z**: the best z of any other song's cluster in the same clip (what the bar must stay
  above);
- **wrong**: ``find_material`` names another song.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_clips  # noqa: E402
import audit_oracle  # noqa: E402
import audit_score  # noqa: E402

from musicapp.attribution import calibration as cal  # noqa: E402
from musicapp.attribution.auditor import Auditor, audit_index_path  # noqa: E402
from musicapp.audio.stretch import time_stretch  # noqa: E402
from musicapp.context import AppContext  # noqa: E402
from musicapp.core import TimeRange  # noqa: E402
from musicapp.jobs import CancelToken, no_progress  # noqa: E402

CLIP_S = 30.0
# (seconds, times played back to back, semitones, gain dB against the material under it)
CASES = (
    (2.0, 1, 0, 0.0),
    (3.0, 1, 0, 0.0),
    (3.0, 1, 0, -6.0),
    (3.0, 4, 0, -6.0),
    (3.0, 4, 2, -6.0),
    (6.0, 1, 0, -6.0),
    (6.0, 1, 0, 0.0),
)


def clip_with_sample(
    catalog: Any, song: Any, held_out: list[Path], case: tuple[float, int, int, float]
) -> tuple[np.ndarray, int, dict[str, object]]:
    """A clip with the sample in it, its rate and the sample's truth (``audit_oracle``'s)."""
    seconds, loops, semis, gain_db = case
    rng = random.Random(f"short-{song.id}-{case}")
    sr = int(song.sample_rate)
    x = audit_clips._material(rng, held_out, CLIP_S, sr)
    s0 = rng.uniform(1.0, float(song.duration_s) - seconds - 1.5)
    mix = np.asarray(
        catalog.load_audio(song.id, time_range=TimeRange(s0, s0 + seconds)),
        np.float32,
    )
    n = int(seconds * sr)
    sample = time_stretch(mix, n, semis) if semis else mix[:, :n]
    sample = audit_clips._fade(np.ascontiguousarray(sample, dtype=np.float32), sr)
    at = int(rng.uniform(1.0, CLIP_S - seconds * loops - 1.0) * sr)
    for k in range(loops):
        under = x[:, at + k * n : at + (k + 1) * n]
        level = audit_clips._rms(under) / audit_clips._rms(sample) * 10 ** (gain_db / 20)
        x[:, at + k * n : at + (k + 1) * n] += sample * np.float32(level)
    truth = {
        "name": f"{song.id} {case}",
        "song_id": song.id,
        "semitones": semis,
        "stretch": 1.0,
        "start_s": at / sr,
        "end_s": (at + n) / sr,
        "song_start_s": s0,
        "song_end_s": s0 + seconds,
        "gain_db": gain_db,
    }
    return x, sr, truth


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--songs", type=int, default=16)
    args = ap.parse_args(argv)
    held_out = sorted((args.work / "held_out" / "wav").glob("*.wav"))
    if not held_out:
        raise SystemExit(f"{args.work / 'held_out' / 'wav'}: no held-out songs there")
    settings = audit_score.settings_for(args.work / "data")
    rows: dict[tuple[float, int, int, float], list[dict[str, float]]] = {c: [] for c in CASES}
    with AppContext.open(settings) as ctx:
        auditor = Auditor(audit_index_path(settings.catalog_path), ctx.catalog)
        try:
            loaded = auditor._ready(no_progress, CancelToken())
            songs = sorted(ctx.catalog.all_songs(), key=lambda s: s.id)
            for song in random.Random(15).sample(songs, min(args.songs, len(songs))):
                for case in CASES:
                    x, sr, truth = clip_with_sample(ctx.catalog, song, held_out, case)
                    row = audit_oracle.look(auditor, truth, x, sr)
                    found = {f.song_id for f in auditor.find_material(x, sr)}
                    clusters = auditor._clusters(loaded, x.astype(np.float32), sr)
                    strays = [z for c, _, z in clusters if loaded.item_song[c.item] != song.id]
                    row["stray_z"] = max(strays, default=0.0)
                    row["wrong"] = float(bool(found - {song.id}))
                    rows[case].append(row)
        finally:
            auditor.close()
    print(f"{args.songs} songs of {args.work}, a {CLIP_S:g} s clip each case\n")
    print(
        "| sample | clips | found | nominated | oracle z p50 | oracle z >= "
        f"{cal.MATERIAL_MIN_Z:g} | stray z p50 / max | wrong song |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (seconds, loops, semis, gain_db), rs in rows.items():

        def share(key: str, rs: list[dict[str, float]] = rs) -> str:
            return f"{100 * statistics.fmean(r[key] for r in rs):.0f} %"

        z = [r["oracle_z"] for r in rs]
        stray = [r["stray_z"] for r in rs]
        at_bar = statistics.fmean(float(v >= cal.MATERIAL_MIN_Z) for v in z)
        name = (
            f"{seconds:g} s"
            + (f" x{loops}" if loops > 1 else "")
            + (f", {semis:+d} st" if semis else "")
            + f", {gain_db:+g} dB"
        )
        print(
            f"| {name} | {len(rs)} | {share('found')} | {share('nominated')} | "
            f"{statistics.median(z):.1f} | {100 * at_bar:.0f} % | "
            f"{statistics.median(stray):.1f} / {max(stray):.1f} | {share('wrong')} |"
        )


if __name__ == "__main__":
    main()
