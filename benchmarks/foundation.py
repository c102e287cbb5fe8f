"""Times the foundation's main jobs: demo catalogue build, one generation, export and verify.

Run: .venv/bin/python benchmarks/foundation.py [--limit N]
Prints a table of figures against their goals, and against a baseline measured in the same run
(decoding the references' audio, the floor any engine pays before it makes a sound).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.config import Settings
from musicapp.context import AppContext
from musicapp.core import GenerationRequest, Reference, Use
from musicapp.jobs import CancelToken


def timed(func):
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="build only N demo songs")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), models_dir=Path(tmp) / "models")
        with AppContext.open(settings) as ctx:
            job = ctx.studio.library.build_demo_job(limit=args.limit)
            songs, build_s = timed(lambda: job.run(lambda p: None, CancelToken()))
            rows.append(("demo catalogue build", f"{songs} songs", build_s, 120.0))
            flac = sum(p.stat().st_size for p in settings.audio_dir.rglob("*.flac"))
            print(
                f"demo catalogue audio: {flac / 1e6:.0f} MB, {flac / max(songs, 1) / 1e6:.1f} MB/song"
            )

            ids = PERMITTED_SONG_IDS[:3]
            _, decode_s = timed(lambda: [ctx.catalog.load_audio(i) for i in ids])
            for n_refs, duration in ((2, 20.0), (3, 30.0)):
                refs = tuple(
                    Reference(i, weight=w)
                    for i, w in zip(ids[:n_refs], (0.5, 0.3, 0.2), strict=False)
                )
                req = GenerationRequest(refs, use=Use.PRIVATE, duration_s=duration, seed=1)
                take, gen_s = timed(lambda req=req: ctx.studio.generate(req))
                rows.append((f"generate {duration:.0f} s from {n_refs} refs", "", gen_s, 10.0))
            out = Path(tmp) / "bench.flac"
            result, export_s = timed(lambda: ctx.studio.export(take, out))
            rows.append(("export FLAC with attribution", "", export_s, 2.0))
            report, verify_s = timed(lambda: ctx.studio.records.verify_file(result.path))
            assert report.ok, report
            rows.append(("verify exported file", "", verify_s, 2.0))
            rows.append(("baseline: decode 3 references", "", decode_s, None))

    print(f"{'task':38} {'detail':10} {'seconds':>9} {'goal s':>7} {'/goal':>6} {'/baseline':>10}")
    for name, detail, secs, goal in rows:
        ratio = f"{secs / goal:6.2f}" if goal else "     -"
        print(f"{name:38} {detail:10} {secs:9.2f} {goal or 0:7.0f} {ratio} {secs / decode_s:10.1f}")


if __name__ == "__main__":
    main()
