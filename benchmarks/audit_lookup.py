"""The fingerprint index's lookups with sorted needles against the unsorted ones they replaced
(issue 15's cost goal): the 30 s takes of the audit harness's data audited by the combination,
both ways, in one process, interleaved; the results must be identical.

    PYTHONPATH=. .venv/bin/python benchmarks/audit_lookup.py --work /work/cache/audit-bench

``--work`` is a folder the harness built, with its audit index. Prints whether every result was
identical and a table: p50 and p95 seconds per audit and the ratio of each p50 to the first's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_score  # noqa: E402
import audit_takes  # noqa: E402

from musicapp.attribution import landmarks as lm  # noqa: E402
from musicapp.attribution.auditor import Auditor, audit_index_path  # noqa: E402
from musicapp.context import AppContext  # noqa: E402


def unsorted_lookup(self: lm.FingerprintIndex, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lookup before: each needle searched where it stands in the query."""
    lo = np.searchsorted(self.keys, keys, side="left")
    n = np.searchsorted(self.keys, keys, side="right") - lo
    total = int(n.sum())
    qi = np.repeat(np.arange(keys.size), n)
    first = np.repeat(np.cumsum(n) - n, n)
    return qi, np.repeat(lo, n) + (np.arange(total) - first)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--takes", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    takes = [audit_takes.TakeRecord.load(p) for p in sorted((args.work / "takes").glob("*.json"))]
    takes = [t for t in takes if abs(t.duration_s - audit_takes.COST_S) < 0.5][: args.takes]
    if not takes:
        raise SystemExit(f"{args.work / 'takes'}: no {audit_takes.COST_S:.0f} s takes there")
    settings = audit_score.settings_for(args.work / "data")
    variants = {
        "unsorted needles (before)": unsorted_lookup,
        "sorted needles": lm.FingerprintIndex._lookup,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    original = lm.FingerprintIndex._lookup
    with AppContext.open(settings) as ctx:
        auditor = Auditor(audit_index_path(settings.catalog_path), ctx.catalog)
        try:
            audios = [audit_score.read(t.path) for t in takes]
            auditor.audit(*audios[0])  # loads the index: not timed
            for _ in range(args.rounds):
                for name, lookup in variants.items():
                    lm.FingerprintIndex._lookup = lookup  # type: ignore[method-assign]
                    for audio, sr in audios:
                        auditor._last_clusters = None  # each audit searches afresh
                        t0 = time.perf_counter()
                        result = auditor.audit(audio, sr)
                        times[name].append(time.perf_counter() - t0)
                        results[name].append(result.influence)
        finally:
            lm.FingerprintIndex._lookup = original  # type: ignore[method-assign]
            auditor.close()
    first, second = results.values()
    print(f"{len(takes)} takes of {audit_takes.COST_S:.0f} s, {args.rounds} rounds")
    print(f"identical results: {first == second}")
    print(audit_score.timing_table(times, "lookup"))


if __name__ == "__main__":
    main()
