"""The audit's index lookups at catalogue scale (1M segments), with synthetic vectors.

A 1,000-song catalogue has ~30,000 one-second segments; a catalogue of real size has millions.
The segment embeddings' nearest-neighbour search is measured here on synthetic vectors shaped
like embeddings (`benchmarks/retrieval.py`'s clustered vectors), through the index the app uses
(`musicapp.selection.vectors.VectorIndex`, IVF + SQ8 above its threshold): build time, memory,
the p50/p95 of one segment's top-k query and of a 30 s take's 30 queries in one batch, and
recall@k against exact search. The fingerprint table's own scale figure is the lead's
(`fingerprint_scale`).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

K = 10
SEGMENTS_PER_TAKE = 30


def vector_scale(n: int, dim: int, queries: int = 500, seed: int = 7) -> dict[str, Any]:
    """Lookups in a VectorIndex of n synthetic segment vectors of ``dim`` dimensions."""
    import faiss
    from retrieval import clustered_vectors, queries_near

    from musicapp.selection.vectors import VectorIndex

    vectors = clustered_vectors(n, dim, seed)
    index = VectorIndex(dim, seed=seed)
    t0 = time.perf_counter()
    index.add(np.arange(n, dtype=np.int64), vectors)
    build_s = time.perf_counter() - t0
    q = queries_near(vectors, queries, seed + 1)
    single = []
    for row in q:
        t = time.perf_counter()
        _, ids = index.search(row, K)
        single.append(1000 * (time.perf_counter() - t))
    batches = []
    found = []
    for i in range(0, len(q) - SEGMENTS_PER_TAKE + 1, SEGMENTS_PER_TAKE):
        t = time.perf_counter()
        _, ids = index.search(q[i : i + SEGMENTS_PER_TAKE], K)
        batches.append(1000 * (time.perf_counter() - t))
        found.append(ids)
    exact = faiss.IndexFlatIP(dim)
    exact.add(vectors)
    hits = total = 0
    for i, ids in zip(range(0, len(q), SEGMENTS_PER_TAKE), found, strict=False):
        _, truth = exact.search(q[i : i + SEGMENTS_PER_TAKE], K)
        for a, b in zip(ids, truth, strict=True):
            hits += len(set(a.tolist()) & set(b.tolist()))
            total += K
    p = statistics.quantiles(single, n=20)
    pb = statistics.quantiles(batches, n=20) if len(batches) > 1 else [batches[0]] * 19
    out = {
        "segments": n,
        "dim": dim,
        "index": index.describe(),
        "build_s": build_s,
        "memory_mb": index.memory_bytes() / 2**20,
        "query_p50_ms": statistics.median(single),
        "query_p95_ms": p[18],
        "take_30_queries_p50_ms": statistics.median(batches),
        "take_30_queries_p95_ms": pb[18],
        f"recall_at_{K}": hits / total if total else float("nan"),
    }
    out["text"] = (
        f"{out['index']}, dim {dim}: one query p50 {out['query_p50_ms']:.2f} / p95 "
        f"{out['query_p95_ms']:.2f} ms; a 30 s take's 30 queries p50 "
        f"{out['take_30_queries_p50_ms']:.1f} / p95 {out['take_30_queries_p95_ms']:.1f} ms; "
        f"recall@{K} {out[f'recall_at_{K}']:.3f}; build {build_s:.0f} s, "
        f"{out['memory_mb']:.0f} MB"
    )
    return out


# -- LEAD: the fingerprint table's scale figure -------------------------------------------------
def fingerprint_scale(n_segments: int) -> dict[str, Any]:
    """The fingerprint lookups at ``n_segments`` segments: `attribution.landmarks.scale_benchmark`
    when the lead's landmark module has it, else "not measured" (said, never made up)."""
    try:
        from musicapp.attribution import landmarks  # type: ignore[attr-defined]
    except ImportError:
        landmarks = None
    bench = getattr(landmarks, "scale_benchmark", None)
    if bench is None:
        print(f"fingerprint lookups at {n_segments:,} segments: not measured")
        return {"segments": n_segments, "text": "not measured"}
    result = bench(n_segments)
    out = dict(result) if isinstance(result, dict) else {"result": result}
    out.setdefault("segments", n_segments)
    out.setdefault("text", str(result))
    return out
