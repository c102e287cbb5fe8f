"""Catalogue recordings audited unchanged (issue 15): is the recording named, and only it?

Songs of one arrangement share their accompaniment, so an audit of one song's own recording
can find others of its arrangement too, on the accompaniment alone; `verify.explained_away`
caps those. This audits ``--songs`` catalogue recordings (a seeded sample), each whole and
unchanged, as a take is audited (`Auditor.audit`) and as the user's audio is checked
(`Auditor.find_material`), with and without explaining away, in one process:

    PYTHONPATH=. .venv/bin/python benchmarks/audit_self.py --work /work/cache/audit-bench

``--work`` is a folder the harness built (``benchmarks/audit.py``), with its audit index.
Prints a table per variant: the song's own share of the audit (p10 / p50 / mean), recordings
with another song found outright and how many on average, recordings where ``find_material``
names another song, and the audit's seconds (p50 / p95).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_score  # noqa: E402

from musicapp.attribution import verify  # noqa: E402
from musicapp.attribution.auditor import Auditor, audit_index_path  # noqa: E402
from musicapp.context import AppContext  # noqa: E402

SEED = 7


def _unchanged(scored: list[Any], *_args: Any, **_kwargs: Any) -> list[Any]:
    return scored


def measure(auditor: Auditor, songs: list[tuple[str, np.ndarray, int]]) -> dict[str, float]:
    own, others, times = [], [], []
    claims = 0
    for song_id, audio, sr in songs:
        auditor._last_clusters = None  # each variant searches afresh
        t0 = time.perf_counter()
        result = auditor.audit(audio, sr)
        times.append(time.perf_counter() - t0)
        own.append(result.influence.get(song_id, 0.0))
        others.append(len(result.found_songs() - {song_id}))
        claims += bool({f.song_id for f in auditor.find_material(audio, sr)} - {song_id})
    n = len(songs)
    return {
        "own share p10": float(np.percentile(own, 10)),
        "own share p50": float(np.median(own)),
        "own share mean": float(np.mean(own)),
        "another song found (recordings)": sum(o > 0 for o in others) / n,
        "other songs found, mean": float(np.mean(others)),
        "find_material names another song": claims / n,
        "audit p50 (s)": float(np.median(times)),
        "audit p95 (s)": float(np.percentile(times, 95)),
    }


def main(argv: list[str] | None = None) -> None:
    args = audit_score.sample_args(__doc__ or "", argv)
    settings = audit_score.settings_for(args.work / "data")
    real = verify.explained_away
    figures: dict[str, dict[str, float]] = {}
    with AppContext.open(settings) as ctx:
        songs = []
        for song_id in audit_score.seeded_songs(ctx.catalog, args.songs, SEED):
            song = ctx.catalog.song(song_id)
            assert song is not None
            songs.append((song_id, ctx.catalog.load_audio(song_id), song.sample_rate))
        auditor = Auditor(audit_index_path(settings.catalog_path), ctx.catalog)
        try:
            auditor.audit(songs[0][1], songs[0][2])  # loads the index: not timed
            for name, fn in (("without explaining away", _unchanged), ("explained away", real)):
                verify.explained_away = fn  # type: ignore[assignment]
                figures[name] = measure(auditor, songs)
        finally:
            verify.explained_away = real
            auditor.close()
    print(f"{len(songs)} catalogue recordings of {args.work}, audited whole and unchanged\n")
    names = list(figures)
    rows = list(figures[names[0]])
    print(f"{'figure':36s}" + "".join(f"{n:>26s}" for n in names))
    for row in rows:
        cells = []
        for n in names:
            v = figures[n][row]
            pct = "recordings" in row or "names" in row
            cells.append(f"{v * 100:25.1f}%" if pct else f"{v:26.3f}")
        print(f"{row:36s}" + "".join(cells))


if __name__ == "__main__":
    main()
