"""Filtered search on the IVF index: probes chosen per query by where the allowed ids are, and
exact search over just the allowed vectors when they are few.

A consent filter is rarely spread evenly: songs refused for a use cluster by label, artist and
genre, and the songs nearest a refused reference are the likeliest to be refused too. An IVF
scan with a selector over a fixed number of lists then finds few allowed ids near the query
and returns the far ends of those lists instead of the nearest allowed songs elsewhere. So the
lists are probed, nearest centroid first, until they hold as many allowed ids as a fixed probe
count would hold were the filter spread evenly (at least that probe count): an even filter
probes as usual, a filter that refuses the query's neighbourhood probes further. Counting needs
each list's allowed ids; `FilterCache` keeps them per filter (a 16-byte digest of the mask) until
the index changes, with the stored ids' lists and the decoded allowed vectors of selective
filters.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from musicapp.selection import vector_file

MAX_COUNTS = 32  # filters whose per-list counts are kept (consent filters: levels x uses)


def digest(bits: np.ndarray) -> bytes:
    """A filter's key: its packed mask's digest (trailing disallowed ids do not change it)."""
    set_bytes = np.flatnonzero(bits)
    end = int(set_bytes[-1]) + 1 if len(set_bytes) else 0
    return hashlib.blake2b(bits[:end].tobytes(), digest_size=16).digest()


class FilterCache:
    """What filtered searches reuse until the index changes; `clear()` on every change."""

    def __init__(self, cache_bytes: int) -> None:
        self.cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self._layout: tuple[np.ndarray, np.ndarray] | None = None
        self._counts: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._exact: OrderedDict[bytes, tuple[np.ndarray, Any]] = OrderedDict()

    def clear(self) -> None:
        with self._lock:
            self._layout = None
            self._counts.clear()
            self._exact.clear()

    def nbytes(self) -> int:
        with self._lock:
            layout = sum(a.nbytes for a in self._layout) if self._layout else 0
            counts = sum(c.nbytes for c in self._counts.values())
            return layout + counts + sum(_exact_bytes(e) for e in self._exact.values())

    def counts(self, index: Any, key: bytes, allowed: np.ndarray) -> np.ndarray:
        """Allowed ids present in each IVF list (the caller holds the index's read lock)."""
        with self._lock:
            hit = self._counts.get(key)
            layout = self._layout
        if hit is not None:
            return hit
        if layout is None:
            layout = vector_file.stored_ids(index)
            with self._lock:
                self._layout = layout
        ids, lists = layout
        inside = ids < len(allowed)
        hits = np.zeros(len(ids), bool)
        hits[inside] = allowed[ids[inside]]
        counts = np.bincount(lists[hits], minlength=index.nlist)
        with self._lock:
            self._counts[key] = counts
            while len(self._counts) > MAX_COUNTS:
                self._counts.popitem(last=False)
        return counts

    def exact(
        self, index: Any, key: bytes, present: Callable[[], np.ndarray], q: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact search over the allowed ids in the index (`present()`), decoded from their
        codes once per filter into a flat index: faiss' SIMD scan, as numpy's BLAS would start
        threads for every query."""
        faiss = vector_file.faiss_module()
        with self._lock:
            hit = self._exact.get(key)
            if hit is not None:
                self._exact.move_to_end(key)
        if hit is None:
            ids = present()
            flat = faiss.IndexFlatIP(index.d)
            if len(ids):
                flat.add(np.asarray(index.reconstruct_batch(ids), np.float32))
            hit = ids, flat
            with self._lock:
                self._exact[key] = hit
                while sum(_exact_bytes(e) for e in self._exact.values()) > self.cache_bytes:
                    self._exact.popitem(last=False)
        ids, flat = hit
        scores, rows = flat.search(q, k)
        found = np.full(rows.shape, -1, np.int64)
        found[rows >= 0] = ids[rows[rows >= 0]]
        return scores, found


def probed(
    index: Any, q: np.ndarray, k: int, counts: np.ndarray, nprobe: int, sel: Any
) -> tuple[np.ndarray, np.ndarray]:
    """IVF search with a selector, each query probing lists nearest first until they hold the
    allowed ids `nprobe` lists hold on average (at least `nprobe`; at most a window of the
    nearest lists, past which the caller's exact fallback answers a short result)."""
    faiss = vector_file.faiss_module()
    nlist = index.nlist
    target = counts.sum() * nprobe / nlist
    window = min(nlist, max(4 * nprobe, 256))  # ranking every centroid costs ~1 ms
    dq, iq = index.quantizer.search(q, window)
    held = np.cumsum(np.where(iq >= 0, counts[np.maximum(iq, 0)], 0), axis=1)
    probes = np.clip((held < target).sum(axis=1) + 1, min(nprobe, window), window)
    width = int(probes.max())
    iq = np.ascontiguousarray(iq[:, :width])
    iq[np.arange(width)[None, :] >= probes[:, None]] = -1  # faiss skips list -1
    dq = np.ascontiguousarray(dq[:, :width])
    # The C++ call: the Python wrapper takes neither search parameters nor a probe count other
    # than the index's own, which concurrent searches would share.
    params = faiss.SearchParametersIVF(sel=sel, nprobe=width)
    scores = np.empty((len(q), k), np.float32)
    found = np.empty((len(q), k), np.int64)
    index.search_preassigned_c(
        len(q),
        faiss.swig_ptr(q),
        k,
        faiss.swig_ptr(iq),
        faiss.swig_ptr(dq),
        faiss.swig_ptr(scores),
        faiss.swig_ptr(found),
        False,
        params,
    )
    return scores, found


def _exact_bytes(entry: tuple[np.ndarray, Any]) -> int:
    ids, flat = entry
    return int(ids.nbytes + flat.ntotal * flat.d * 4)
