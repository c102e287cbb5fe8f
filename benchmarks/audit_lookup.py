"""The fingerprint search's lookups, as they were and as they are (issue 15's cost goal): the
30 s takes of the audit harness's data audited by the combination, each way, in one process,
interleaved; the results must be identical.

- unsorted needles: every key of every variant searched where it stands in the query (stop 30);
- sorted needles: the keys searched sorted (stop 31);
- now: a bit per key value leaves out the keys no entry holds before the search, and each
  tempo's triplets are made once and moved to the 13 transpositions.

    PYTHONPATH=. .venv/bin/python benchmarks/audit_lookup.py --work /work/cache/audit-bench

``--work`` is a folder the harness built, with its audit index. Prints whether every result was
identical and a table: p50 and p95 seconds per audit and the ratio of each p50 to the first's.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_score  # noqa: E402
import audit_takes  # noqa: E402

from musicapp.attribution import landmarks as lm  # noqa: E402
from musicapp.attribution.auditor import Auditor, audit_index_path  # noqa: E402
from musicapp.context import AppContext  # noqa: E402


def unsorted_lookup(self: lm.FingerprintIndex, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stop 30's lookup: each needle searched where it stands in the query."""
    lo = np.searchsorted(self.keys, keys, side="left")
    n = np.searchsorted(self.keys, keys, side="right") - lo
    total = int(n.sum())
    qi = np.repeat(np.arange(keys.size), n)
    first = np.repeat(np.cumsum(n) - n, n)
    return qi, np.repeat(lo, n) + (np.arange(total) - first)


def every_key(self: lm.FingerprintIndex, keys: np.ndarray) -> np.ndarray:
    """No key left out before the search (stops 30 and 31)."""
    return np.ones(keys.size, bool)


def keys_per_variant(p: lm.Peaks, fan: int = lm.FAN) -> Iterator[tuple[int, int, Any, Any]]:
    """Stops 30 and 31: the triplets made afresh for each of the 195 variants."""
    for k in range(-lm.MAX_SHIFT, lm.MAX_SHIFT + 1):
        for si, s in enumerate(lm.SCALES):
            triplets = lm.triplets(p, k * lm.BINS_PER_SEMITONE, s, fan)
            keys, anchors, _ = lm._with_neighbours(*triplets)
            yield k, si, keys, anchors


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
    now = (lm.FingerprintIndex._lookup, lm.FingerprintIndex._holds, lm.variant_keys)
    variants = {
        "unsorted needles (stop 30)": (unsorted_lookup, every_key, keys_per_variant),
        "sorted needles (stop 31)": (now[0], every_key, keys_per_variant),
        "held keys only, triplets per tempo": now,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    with AppContext.open(settings) as ctx:
        auditor = Auditor(audit_index_path(settings.catalog_path), ctx.catalog)
        try:
            audios = [audit_score.read(t.path) for t in takes]
            auditor.audit(*audios[0])  # loads the index: not timed
            for _ in range(args.rounds):
                for name, (lookup, holds, keys) in variants.items():
                    lm.FingerprintIndex._lookup = lookup  # type: ignore[method-assign]
                    lm.FingerprintIndex._holds = holds  # type: ignore[method-assign]
                    lm.variant_keys = keys
                    for audio, sr in audios:
                        auditor._last_clusters = None  # each audit searches afresh
                        t0 = time.perf_counter()
                        result = auditor.audit(audio, sr)
                        times[name].append(time.perf_counter() - t0)
                        results[name].append(result.influence)
        finally:
            lm.FingerprintIndex._lookup, lm.FingerprintIndex._holds, lm.variant_keys = now  # type: ignore[method-assign]
            auditor.close()
    first, *rest = results.values()
    print(f"{len(takes)} takes of {audit_takes.COST_S:.0f} s, {args.rounds} rounds")
    print(f"identical results: {all(r == first for r in rest)}")
    print(audit_score.timing_table(times, "lookup"))


if __name__ == "__main__":
    main()
