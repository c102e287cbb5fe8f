"""The nearest-neighbour index over song embeddings (faiss), with consent-aware filtering.

Cosine similarity is the inner product of L2-normalised float32 vectors, keyed by int64 ids.
Small collections (under `ivf_from`, 50,000 by default) are searched exactly (a flat index:
at 50k x 512 a query is ~3 ms). Larger ones use an inverted file with 8-bit scalar-quantised
residuals (IVF + SQ8: 1M x 512 is ~0.6 GB instead of 2 GB as float32), trained on a sample.
An IVF index is rebuilt from its own decoded vectors once the collection has grown to
`RETRAIN_GROWTH` times the size it was trained on (the lists would be unbalanced and too long
for the number of lists); growing geometrically, the rebuilds cost O(n) in all, like a dynamic
array's copies. Decoded vectors differ from the originals by the quantisation step (~1e-3).

Filters (`allowed`, a mask indexed by id, e.g. the songs usable for a level and use) are
applied inside the search, never after it: a song refused for the request is never returned.
An IVF scan with a selector only sees the allowed vectors in the lists it probes, so when the
filter keeps few ids (at most `exact_fraction` of the collection, or too few to expect k of
them in the probed lists) the search is exact over just the allowed vectors, decoded from the
codes once and cached per mask until the index changes (1 % of 1M: 40 ms once, then ~1 ms a
query). Otherwise each query probes lists until they hold enough allowed ids
(`vector_filter.probed`: a filter that refuses the query's neighbourhood probes further), and
a query still answered with fewer than k ids while more are allowed is answered exactly.
benchmarks/retrieval.py measures the choices (lists, probes, thresholds) at 1M x 512.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from musicapp.core import InvalidInput
from musicapp.selection import vector_file, vector_filter

IVF_FROM = 50_000  # at or above this many vectors an IVF index replaces exact search
RETRAIN_GROWTH = 4.0  # rebuild an IVF index once it holds this many times its training size
EXACT_FRACTION = 0.02  # filters keeping at most this share of the ids are searched exactly
FILTER_PROBES = 2  # a filtered IVF search probes this many times the lists (see _filtered)
CACHE_BYTES = 128 << 20  # decoded allowed vectors of selective filters (1M: six 1 % filters)
FAISS_THREADS = 2  # faiss' OpenMP threads: builds use them; single queries need one
TRAIN_PER_LIST = 64  # training sample per list (faiss warns under 39)

_faiss = vector_file.faiss_module


def lists_for(n: int) -> int:
    """IVF lists for n vectors: a power of two near 4 sqrt(n) (1M: 4096, ~250 per list)."""
    return int(min(16384, max(64, 2 ** round(math.log2(4 * math.sqrt(max(n, 1)))))))


def probes_for(nlist: int) -> int:
    """Lists probed per query, ~2.3 % of them: at 1M x 512 in 4096 lists, 64 probes gave
    recall@10 0.955, 96 gave 0.984 (p95 4 ms), 128 gave 0.987 (benchmarks/retrieval.py)."""
    return max(16, nlist * 3 // 128)


class _ReadWriteLock:
    """Many searches at once, or one change; faiss releases the GIL while it searches. A
    waiting change holds back new searches, or a steady stream of them would starve it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writers = 0  # waiting or writing
        self._writing = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._writers -= 1
                self._cond.notify_all()


class VectorIndex:
    """Cosine nearest neighbours (inner product over L2-normalised float32 vectors) keyed by
    int64 ids >= 0."""

    def __init__(
        self,
        dim: int,
        *,
        ivf_from: int = IVF_FROM,
        nlist: int | None = None,
        nprobe: int | None = None,
        exact_fraction: float = EXACT_FRACTION,
        cache_bytes: int = CACHE_BYTES,
        seed: int = 0,
    ) -> None:
        if dim < 1:
            raise InvalidInput(f"dimension must be at least 1, not {dim}", field="dim")
        self.dim = dim
        self.ivf_from = ivf_from
        self.exact_fraction = exact_fraction
        self.cache_bytes = cache_bytes
        self._nlist_wanted, self._nprobe_wanted = nlist, nprobe
        self._seed = seed
        self._rw = _ReadWriteLock()
        self._writer = threading.Lock()  # one change at a time; searches go on while it builds
        self._index: Any = _faiss().IndexIDMap2(_faiss().IndexFlatIP(dim))
        self._ids: np.ndarray = np.empty(0, np.int64)  # the ids present, sorted
        self.nprobe = 0
        self.trained_on = 0  # vectors the IVF quantisers were trained on (0: exact index)
        self._cache = vector_filter.FilterCache(cache_bytes)

    # -- what it holds ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def is_ivf(self) -> bool:
        return self.trained_on > 0

    def describe(self) -> str:
        n = f"{len(self):,} vectors"
        if not self.is_ivf:
            return f"exact ({n})"
        return f"IVF{self._index.nlist} SQ8, nprobe {self.nprobe} ({n})"

    def memory_bytes(self) -> int:
        """An estimate of what the index holds in memory (codes, ids, maps, centroids, cache)."""
        n = len(self)
        ours = self._ids.nbytes + self._cache.nbytes()
        if not self.is_ivf:
            return n * (4 * self.dim + 8 + _MAP_ENTRY) + ours
        nlist = self._index.nlist
        codes = n * (self._index.code_size + 8 + _MAP_ENTRY)
        return codes + nlist * (4 * self.dim + _LIST_OVERHEAD) + 8 * self.dim + ours

    def vector(self, id: int) -> np.ndarray | None:
        """The stored vector (normalised; decoded from its code on an IVF index)."""
        with self._rw.read():
            if not self._has(np.array([id], np.int64))[0]:
                return None
            return np.asarray(self._index.reconstruct(int(id)), np.float32)

    def _with(self, ids: np.ndarray) -> np.ndarray:
        """The sorted ids with these (unique) ones added: one memmove, not a sort of all (an
        add of one song to a million)."""
        new = np.sort(ids[~self._has(ids)])
        return np.insert(self._ids, np.searchsorted(self._ids, new), new)

    def _has(self, ids: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self._ids, ids)
        found = pos < len(self._ids)
        found[found] = self._ids[pos[found]] == ids[found]
        return found

    # -- changes ---------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add or replace vectors (normalised here); may switch to, or rebuild, the IVF index."""
        ids, vectors = self._checked(ids, vectors)
        if not len(ids):
            return
        _threads(len(ids))
        with self._writer:
            total = len(self._ids) + int((~self._has(ids)).sum())
            grown = self.is_ivf and total > RETRAIN_GROWTH * self.trained_on
            if total >= self.ivf_from and (not self.is_ivf or grown):
                index, trained = self._rebuilt(ids, vectors)
                with self._rw.write():
                    self._index, self.trained_on = index, trained
                    self.nprobe = self._nprobe_wanted or probes_for(index.nlist)
                    self._ids = self._with(ids)
                    self._cache.clear()
                return
            with self._rw.write():
                self._remove_present(ids)
                self._index.add_with_ids(vectors, ids)
                self._ids = self._with(ids)
                self._cache.clear()

    def remove(self, ids: np.ndarray) -> None:
        """Remove these ids (absent ones are ignored)."""
        ids = np.unique(np.asarray(ids, np.int64).ravel())
        with self._writer, self._rw.write():
            self._remove_present(ids)
            self._ids = np.delete(self._ids, np.searchsorted(self._ids, ids[self._has(ids)]))
            self._cache.clear()

    def _remove_present(self, ids: np.ndarray) -> None:
        present = np.ascontiguousarray(ids[self._has(ids)])
        if len(present):
            # The IVF's hashtable direct map removes only through an IDSelectorArray.
            faiss = _faiss()
            self._index.remove_ids(faiss.IDSelectorArray(len(present), faiss.swig_ptr(present)))

    def _checked(self, ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(ids)
        vectors = np.asarray(vectors, np.float32)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise InvalidInput("ids must be a 1-D integer array", field="ids")
        if vectors.shape != (len(ids), self.dim):
            raise InvalidInput(
                f"vectors must be shaped ({len(ids)}, {self.dim}), not {vectors.shape}",
                field="vectors",
            )
        if len(ids) and ids.min() < 0:
            raise InvalidInput("ids must be >= 0", field="ids")
        ids = ids.astype(np.int64)
        # Within one call the last vector given for an id wins, as if added one by one.
        last = len(ids) - 1 - np.unique(ids[::-1], return_index=True)[1]
        if len(last) < len(ids):
            last.sort()
            ids, vectors = ids[last], vectors[last]
        return np.ascontiguousarray(ids), _normalised(vectors, "vectors")

    def _rebuilt(self, ids: np.ndarray, vectors: np.ndarray) -> tuple[Any, int]:
        """A new IVF index of what is held (decoded) and the new vectors; searches go on."""
        faiss = _faiss()
        with self._rw.read():
            old_ids = self._ids[~np.isin(self._ids, ids, assume_unique=True)]
        total = len(old_ids) + len(ids)
        nlist = self._nlist_wanted or lists_for(total)
        rng = np.random.default_rng(self._seed)
        sample = np.sort(rng.choice(total, min(total, TRAIN_PER_LIST * nlist), replace=False))
        from_old = sample[sample < len(old_ids)]
        new_rows = sample[len(from_old) :] - len(old_ids)
        train = np.concatenate([self._decoded(old_ids[from_old]), vectors[new_rows]])
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(self.dim),
            self.dim,
            nlist,
            faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )
        index.cp.seed = self._seed
        index.train(train)
        del train
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        for start in range(0, len(old_ids), 65536):
            chunk = old_ids[start : start + 65536]
            index.add_with_ids(self._decoded(chunk), chunk)
        index.add_with_ids(vectors, ids)
        return index, total

    def _decoded(self, ids: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.empty((0, self.dim), np.float32)
        with self._rw.read():
            return np.asarray(self._index.reconstruct_batch(ids), np.float32)

    # -- search ----------------------------------------------------------------------------

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores (q, k) float32 and ids (q, k) int64 of the k nearest allowed vectors, best
        first; -1 (score -inf) where fewer than k exist. `allowed[id]` True: may be returned;
        ids beyond its length are not allowed; None: all are."""
        q = np.asarray(queries, np.float32)
        q = _normalised(q.reshape(1, -1) if q.ndim == 1 else q, "queries")
        if q.shape[1] != self.dim:
            detail = f"queries must have {self.dim} columns, not {q.shape[1]}"
            raise InvalidInput(detail, field="queries")
        if k < 1:
            raise InvalidInput(f"k must be at least 1, not {k}", field="k")
        _threads(len(q))
        with self._rw.read():
            if allowed is None:
                scores, found = self._index.search(q, k, params=self._params())
            else:
                scores, found = self._filtered(q, k, _checked_mask(allowed))
        scores = np.asarray(scores, np.float32)
        scores[found < 0] = -np.inf
        return scores, np.asarray(found, np.int64)

    def _params(self, sel: Any = None, nprobe: int | None = None) -> Any:
        faiss = _faiss()
        if not self.is_ivf:
            return None if sel is None else faiss.SearchParameters(sel=sel)
        params = faiss.SearchParametersIVF(nprobe=nprobe or self.nprobe)
        if sel is not None:
            params.sel = sel
        return params

    def _filtered(self, q: np.ndarray, k: int, allowed: np.ndarray) -> tuple[Any, Any]:
        faiss = _faiss()
        m = int(np.count_nonzero(allowed))  # an upper bound: not every allowed id is here
        if m == 0 or not len(self):
            return np.full((len(q), k), -np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        bits = np.packbits(allowed, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
        if not self.is_ivf:  # a flat scan skips what the selector refuses: exact
            return self._index.search(q, k, params=self._params(sel))
        key = vector_filter.digest(bits)
        cacheable = m * self.dim * 4 <= self.cache_bytes
        if cacheable and m <= self.exact_fraction * len(self):
            return self._exact(key, allowed, q, k)
        counts = self._cache.counts(self._index, key, allowed)
        m = int(counts.sum())  # now exact
        # The k nearest allowed ids are about the k/fraction nearest of all: they reach into
        # more lists than k unfiltered ones, and a list costs less to scan when most of its
        # codes fail the selector (one bit test, no distance).
        nprobe = min(self._index.nlist, FILTER_PROBES * self.nprobe)
        cacheable = m * self.dim * 4 <= self.cache_bytes
        expected = m * nprobe / self._index.nlist  # allowed ids that many lists hold
        if cacheable and (m <= self.exact_fraction * len(self) or expected < 4 * k):
            return self._exact(key, allowed, q, k)
        scores, found = vector_filter.probed(self._index, q, k, counts, nprobe, sel)
        short = (found < 0).sum(axis=1) > k - min(k, m)
        if short.any():  # even the widest probe held too few allowed ids: ask the exact way
            if cacheable:
                s2, f2 = self._exact(key, allowed, q[short], k)
            else:
                s2, f2 = self._index.search(q[short], k, params=self._params(sel, len(counts)))
            scores[short], found[short] = s2, f2
        return scores, found

    def _exact(
        self, key: bytes, allowed: np.ndarray, q: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        def present() -> np.ndarray:  # only when the filter's vectors are not cached yet
            candidates = np.flatnonzero(allowed).astype(np.int64)
            return candidates[self._has(candidates)]

        return self._cache.exact(self._index, key, present, q, k)

    # -- files -----------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index atomically (a temp file renamed into place)."""
        with self._writer, self._rw.read():
            meta = {"dim": self.dim, "trained_on": self.trained_on, "nprobe": self.nprobe}
            vector_file.write(Path(path), self._index, meta)

    @classmethod
    def load(cls, path: Path, dim: int, **options: Any) -> VectorIndex:
        """An index saved by `save`; a damaged or mismatched file raises InvalidInput naming
        it."""
        path = Path(path)
        index, meta = vector_file.read(path)
        if meta.get("dim") != dim or index.d != dim:
            raise InvalidInput(
                f"{path}: vectors of dimension {meta.get('dim')}, expected {dim}", path=str(path)
            )
        out = cls(dim, **options)
        out._index = index
        out.trained_on = int(meta.get("trained_on", 0))
        out.nprobe = out._nprobe_wanted or int(meta.get("nprobe", 0))
        out._ids = np.sort(vector_file.stored_ids(index)[0])
        if out.is_ivf != hasattr(index, "nlist") or len(out._ids) != index.ntotal:
            raise InvalidInput(f"{path}: the index does not match its header", path=str(path))
        return out


# Per-vector bytes of faiss' id maps (std::unordered_map entry and bucket) and per-list
# overhead (two std::vector headers and allocator slack); estimates, checked against the
# process's resident memory in benchmarks/retrieval.py.
_MAP_ENTRY = 40
_LIST_OVERHEAD = 64


def _threads(queries: int) -> None:
    """faiss' OpenMP threads for this thread's next call: one for a few queries (a team of
    threads per query costs more than it saves, and stalls on a busy machine), else
    FAISS_THREADS. OpenMP keeps the setting per thread, so searches and a build in other
    threads do not change each other's."""
    many = queries >= 20
    _faiss().omp_set_num_threads(max(1, min(FAISS_THREADS if many else 1, os.cpu_count() or 1)))


def _normalised(x: np.ndarray, field: str) -> np.ndarray:
    if x.ndim != 2:
        raise InvalidInput(f"{field} must be a 2-D array", field=field)
    if not np.isfinite(x).all():
        raise InvalidInput(f"{field} hold NaN or infinite values", field=field)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if len(x) and norms.min() == 0:
        row = int(np.argmin(norms))
        raise InvalidInput(f"{field}: row {row} is all zeros (no direction)", field=field)
    return np.ascontiguousarray(x / norms, np.float32)


def _checked_mask(allowed: np.ndarray) -> np.ndarray:
    mask = np.asarray(allowed)
    if mask.dtype != np.bool_ or mask.ndim != 1:
        raise InvalidInput("allowed must be a 1-D boolean array indexed by id", field="allowed")
    return mask
