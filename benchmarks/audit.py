"""The corroborative audit measured against the truth we know (issue 15): one run, every figure.

    PYTHONPATH=. .venv/bin/python benchmarks/audit.py [--work DIR] [--quick] [--json OUT]
        [--markdown] [--data-only] [--keep-index] [--scale N] [--methods a,b]

Data (built once under --work, default /work/cache/audit-bench, and reused; see
benchmarks/audit_data.py, audit_takes.py, audit_clips.py):
- a catalogue of 1,014 songs rendered like the demo (its 64 songs and 950 corpus tunes) and 151
  held-out songs rendered the same way but kept out of it;
- 500 weight-free (concat) takes made through the real Studio, 40 % song level, 30 % parameter
  level, 30 % audio or temporal level over a held-out song; their truth is their Provenance;
- 300 user clips hiding a 4-16 s catalogue excerpt (-20..0 dB, x0.75-1.25, -6..+6 semitones, EQ,
  gain, half through MP3) and 300 clean ones made the same way.

Scoring: the audit index is built afresh (Auditor.catch_up, timed; --keep-index reuses it), then
every take is audited with each method of attribution.auditor.METHODS and every clip goes
through Auditor.find_material. Metrics (musicapp/attribution/scoring.py): top-1 and top-3 (the
true largest-share song is the audit's first / within its first three), all-references recall
(true songs with >= 10 % share within the audit's top n, n = the songs the take used), per-second
timeline agreement (the truth's largest source, "none" for the user's own audio, against the top
song of the audit segment covering the second, "none" when it is over half unattributed), share
L1 (compare().share_l1); for clips recall, false positives, position error in bars. Cost: the
combination's audit time on the 30 s takes with the index loaded (a first audit, untimed in the
figures, loads it), index build time, and lookups at 1M synthetic segments.

`--quick` is a smoke run in DIR/quick: the demo's 64 songs, 20 held-out, 40 takes, 40 + 40 clips,
100,000 synthetic segments. Seeded: the same command gives the same data and figures (times
aside).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_clips  # noqa: E402
import audit_data  # noqa: E402
import audit_report  # noqa: E402
import audit_scale  # noqa: E402
import audit_score  # noqa: E402
import audit_takes  # noqa: E402
import numpy as np  # noqa: E402

from musicapp.attribution.auditor import METHODS, Auditor, audit_index_path  # noqa: E402
from musicapp.config import Settings  # noqa: E402
from musicapp.context import AppContext  # noqa: E402

log = logging.getLogger("audit")

FULL = {"extra": 950, "held_out": 150, "takes": 500, "clips": 300, "scale": 1_000_000}
QUICK = {"extra": 0, "held_out": 20, "takes": 40, "clips": 40, "scale": 100_000}
SCALE_DIM = 512  # CLAP's; used when the auditor does not say its segment embedding's size


def _shard_settings(data_dir: Path, i: int) -> Settings:
    """Settings of take shard i > 0: the same catalogue (and its audio, origins and selection
    files beside it), a ledger and takes folder of its own, so processes never share a ledger."""
    own = data_dir.with_name(f"{data_dir.name}-shard{i}")
    own.mkdir(exist_ok=True)
    if not (own / "audio").exists():
        (own / "audio").symlink_to(data_dir / "audio", target_is_directory=True)
    os.environ["MUSICAPP_CATALOG"] = str(data_dir / "catalog.sqlite")
    return audit_score.settings_for(own)


def build_data(
    work: Path, sizes: dict[str, int], only: str = "", shard: tuple[int, int] = (0, 1)
) -> tuple[Any, list, list, float]:
    """The catalogue, held-out songs, takes and clips (built or reused); the catalogue's build.
    ``only`` ("takes" or "clips") builds that part alone, and ``shard`` (i, k) only the takes
    whose index is i modulo k: several processes can build the data at once."""
    built = audit_data.build(work, sizes["extra"], sizes["held_out"])
    t0 = time.perf_counter()
    takes: list[audit_takes.TakeRecord] = []
    clips: list[audit_clips.ClipRecord] = []
    settings = audit_score.settings_for(built.data_dir)
    if shard[0] > 0:
        settings = _shard_settings(built.data_dir, shard[0])
    with AppContext.open(settings) as ctx:
        if only != "clips":
            takes = audit_takes.make_takes(
                ctx.studio, ctx.catalog, work, built.held_out, sizes["takes"], shard
            )
        t1 = time.perf_counter()
        if only != "takes":
            clips = audit_clips.make_clips(
                ctx.catalog, work, built.held_out, sizes["clips"], sizes["clips"]
            )
    log.info(
        "data ready: %d songs, %d held-out, %d takes, %d clips (takes %.0f s, clips %.0f s here)",
        built.songs,
        len(built.held_out),
        len(takes),
        len(clips),
        t1 - t0,
        time.perf_counter() - t1,
    )
    return built, takes, clips, built.build_s


def run(
    args: argparse.Namespace, make_auditor: Callable[[Path, Any], Any] = Auditor
) -> dict[str, Any]:
    """Build or reuse the data, audit it, and return every figure (what --json writes)."""
    sizes = dict(QUICK if args.quick else FULL)
    work = args.work / "quick" if args.quick else args.work
    for pair in filter(None, args.sizes.split(",")):
        name, _, value = pair.partition("=")
        if name not in sizes:
            raise SystemExit(f"--sizes: {name!r} is not one of {', '.join(sizes)}")
        sizes[name] = int(value)
    shard = tuple(int(x) for x in args.shard.split("/")) if args.data_only else (0, 1)
    only = args.only if args.data_only else ""
    built, takes, clips, build_s = build_data(work, sizes, only, (shard[0], shard[1]))
    if args.sample:
        takes, clips = sampled(takes, clips, args.sample)
    figures: dict[str, Any] = {
        "config": {"work": str(work), "quick": args.quick, "sample": args.sample, **sizes},
        "data": {
            "songs": built.songs,
            "held_out": len(built.held_out),
            "takes": len(takes),
            "takes_by_level": {
                lvl: sum(1 for t in takes if t.level == lvl) for lvl in audit_report.LEVELS
            },
            "clips_hidden": sum(1 for c in clips if c.hidden),
            "clips_clean": sum(1 for c in clips if not c.hidden),
            "catalogue_build_s": build_s,
        },
    }
    if args.data_only:
        return figures
    settings = audit_score.settings_for(built.data_dir)
    index_path = audit_index_path(settings.catalog_path)
    methods = tuple(args.methods.split(",")) if args.methods else METHODS
    with AppContext.open(settings) as ctx:
        if not args.keep_index:
            for p in index_path.parent.glob(index_path.name + "*"):
                p.unlink() if p.is_file() else shutil.rmtree(p)
        auditor = make_auditor(index_path, ctx.catalog)
        try:
            t0 = time.perf_counter()
            added = auditor.catch_up()
            index_s = time.perf_counter() - t0
            log.info("audit index: %d songs added in %.1f s", added, index_s)
            t0 = time.perf_counter()
            audio, sr = audit_score.read(takes[0].path)
            auditor.audit(audio, sr)
            first_s = time.perf_counter() - t0
            dim = args.scale_dim or _segment_dim(auditor) or SCALE_DIM
            take_rows, clip_rows = audit_score.score_all(
                auditor,
                takes,
                clips,
                methods,
                audit_takes.COST_S,
                args.workers,
                built.data_dir,
                index_path,
            )
        finally:
            auditor.close()
    cost = audit_report.summarise_cost(take_rows, clip_rows, audit_takes.COST_S)
    cost.update(index_build_s=index_s, index_songs=added, first_audit_s=first_s)
    cost["workers"] = args.workers
    figures.update(
        takes=audit_report.summarise_takes(take_rows),
        clips=audit_report.summarise_clips(clip_rows),
        cost=cost,
    )
    scale: dict[str, Any] = {}
    if args.scale:
        scale[f"segment lookups at {args.scale:,} (synthetic)"] = audit_scale.vector_scale(
            args.scale, dim
        )
        scale[f"fingerprint lookups at {args.scale:,}"] = audit_scale.fingerprint_scale(args.scale)
    figures["scale"] = scale
    figures["rows"] = {"takes": take_rows, "clips": clip_rows}
    return figures


def sampled(takes: list, clips: list, n: int) -> tuple[list, list]:
    """Every k-th take (about ``n``, the levels in their built proportions, since takes are
    built in a seeded random order of levels) and about ``n`` clips, half hidden, half clean:
    a run that fits where the whole set does not."""
    step = max(1, len(takes) // n)
    kept = takes[::step]
    hidden = [c for c in clips if c.hidden]
    clean = [c for c in clips if not c.hidden]
    h_step = max(1, len(hidden) // max(1, n // 2))
    c_step = max(1, len(clean) // max(1, n // 2))
    return kept, hidden[::h_step] + clean[::c_step]


def _segment_dim(auditor: Any) -> int | None:
    """The size of the auditor's segment embeddings, where it says (its embedder's ``dim``)."""
    for owner in (auditor, getattr(auditor, "embedder", None)):
        for name in ("segment_dim", "embedding_dim", "dim"):
            value = getattr(owner, name, None)
            if isinstance(value, int) and value > 0:
                return value
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/work/cache/audit-bench"))
    ap.add_argument("--quick", action="store_true", help="a smoke run (see the docstring)")
    ap.add_argument(
        "--sample", type=int, default=0, help="score about N takes and N clips of the data"
    )
    ap.add_argument("--json", type=Path, help="write every figure (and per-item rows) here")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--data-only", action="store_true", help="build the data and stop")
    ap.add_argument("--only", choices=("takes", "clips"), default="", help="with --data-only")
    ap.add_argument("--shard", default="0/1", help="with --data-only: takes i/k (i modulo k)")
    ap.add_argument(
        "--sizes",
        default="",
        help="override sizes, e.g. extra=250,held_out=40,takes=100,clips=60 (use its own --work)",
    )
    ap.add_argument("--keep-index", action="store_true", help="reuse the audit index")
    ap.add_argument("--methods", default="", help="comma-separated subset of METHODS")
    ap.add_argument("--scale", type=int, default=None, help="synthetic segments (0: skip)")
    ap.add_argument("--scale-dim", type=int, default=0)
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="score in this many processes (the 30 s cost takes are always audited alone)",
    )
    args = ap.parse_args(argv)
    if args.scale is None:
        args.scale = (QUICK if args.quick else FULL)["scale"]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    t0 = time.perf_counter()
    figures = run(args)
    figures["wall_s"] = time.perf_counter() - t0
    if args.json:
        args.json.write_text(json.dumps(_clean(figures), indent=1, default=str))
    if args.data_only:
        print(json.dumps(figures["data"], indent=1))
        return
    print(audit_report.tables(figures, md=args.markdown))


def _clean(v: Any) -> Any:
    """JSON has no NaN: a figure with nothing to count is null."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


if __name__ == "__main__":
    main()
