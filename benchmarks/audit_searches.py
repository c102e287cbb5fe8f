"""What the audit's second fingerprint search costs (issue 15): the 30 s takes of the audit
harness's data audited by the combination with one search and with two (the second without the
peaks of what the first found), in one process, each variant ``--rounds`` times, interleaved.

    PYTHONPATH=. .venv/bin/python benchmarks/audit_searches.py --work /tmp/aq/quick

``--work`` is a folder the harness built (``benchmarks/audit.py --quick --work DIR`` builds
``DIR/quick``); its audit index must exist (the harness leaves it). Prints a table: p50 and p95
seconds per audit and the ratio of each variant's p50 to the first's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_score  # noqa: E402
import audit_takes  # noqa: E402

from musicapp.attribution.auditor import Auditor, audit_index_path  # noqa: E402
from musicapp.context import AppContext  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    takes = [audit_takes.TakeRecord.load(p) for p in sorted((args.work / "takes").glob("*.json"))]
    takes = [t for t in takes if abs(t.duration_s - audit_takes.COST_S) < 0.5]  # as the harness
    if not takes:
        raise SystemExit(f"{args.work / 'takes'}: no {audit_takes.COST_S:.0f} s takes there")
    settings = audit_score.settings_for(args.work / "data")
    audios = [audit_score.read(t.path) for t in takes]
    variants = {"one search": 1, "two searches": 2}
    times: dict[str, list[float]] = {name: [] for name in variants}
    with AppContext.open(settings) as ctx:
        auditors = {
            name: Auditor(audit_index_path(settings.catalog_path), ctx.catalog, searches=n)
            for name, n in variants.items()
        }
        try:
            for a in auditors.values():
                a.audit(*audios[0])  # loads the index: not timed
            for _ in range(args.rounds):
                for name, a in auditors.items():
                    for audio, sr in audios:
                        a._last_clusters = None  # each audit searches afresh
                        t0 = time.perf_counter()
                        a.audit(audio, sr)
                        times[name].append(time.perf_counter() - t0)
        finally:
            for a in auditors.values():
                a.close()
    print(f"{len(takes)} takes of {audit_takes.COST_S:.0f} s, {args.rounds} rounds")
    print(audit_score.timing_table(times, "variant"))


if __name__ == "__main__":
    main()
