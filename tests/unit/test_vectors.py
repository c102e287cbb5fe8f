"""The song-embedding index: exact on small sets, IVF recall on clustered data, consent filters
that never let a disallowed id through (also when they keep fewer than k), changes, files."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicapp.core import InvalidInput
from musicapp.selection import vector_file
from musicapp.selection.vectors import VectorIndex


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def clustered(n: int, dim: int, seed: int, clusters: int = 200) -> np.ndarray:
    """Embedding-like data: clusters of varying size around shared directions, plus noise."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((clusters, dim)) + 0.5 * rng.standard_normal(dim))
    sizes = rng.lognormal(0, 1, clusters)
    which = rng.choice(clusters, n, p=sizes / sizes.sum())
    return unit(centres[which] + rng.standard_normal((n, dim)) * (0.8 / np.sqrt(dim)))


def brute_force(
    vectors: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    scores = unit(queries) @ unit(vectors).T
    if allowed is not None:
        scores[:, ~allowed[: len(vectors)]] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, top, axis=1), top


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


@cache
def ivf_set() -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    """20k x 64 clustered vectors in an IVF index (forced: ivf_from=5000), and queries near them."""
    vectors = clustered(20_000, 64, seed=1)
    index = VectorIndex(64, ivf_from=5_000)
    index.add(np.arange(len(vectors)), vectors)
    rng = np.random.default_rng(2)
    queries = unit(
        vectors[rng.integers(0, len(vectors), 200)] + 0.3 * rng.standard_normal((200, 64)) / 8
    )
    return index, vectors, queries


# -- exact (small catalogues) -----------------------------------------------------------------


def test_a_small_set_is_searched_exactly_like_numpy_brute_force():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 16)).astype(np.float32) * 3  # not normalised: done here
    queries = rng.standard_normal((20, 16)).astype(np.float32)
    index = VectorIndex(16)
    index.add(np.arange(500) * 7, vectors)  # ids need not be positions
    scores, ids = index.search(queries, 10)
    want_scores, want = brute_force(vectors, queries, 10)
    assert index.describe() == "exact (500 vectors)"
    assert (ids == want * 7).all()
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)

    allowed = np.zeros(500 * 7, bool)
    allowed[rng.choice(500, 40, replace=False) * 7] = True
    scores, ids = index.search(queries, 10, allowed)
    by_position = np.zeros(500, bool)
    by_position[np.flatnonzero(allowed) // 7] = True
    want_scores, want = brute_force(vectors, queries, 10, by_position)
    assert (ids == want * 7).all()
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)


def test_one_query_with_fewer_vectors_than_k_pads_with_minus_one():
    index = VectorIndex(4)
    index.add(np.array([3, 9]), np.eye(4, dtype=np.float32)[:2])
    scores, ids = index.search(np.array([1, 0.1, 0, 0], np.float32), 5)
    assert ids.tolist() == [[3, 9, -1, -1, -1]]
    assert scores.shape == (1, 5) and scores[0, 0] == pytest.approx(1 / np.sqrt(1.01))
    assert np.isneginf(scores[0, 2:]).all()
    assert VectorIndex(4).search(np.ones(4, np.float32), 2)[1].tolist() == [[-1, -1]]


def test_ids_beyond_the_filter_are_not_allowed():
    index = VectorIndex(4)
    index.add(np.array([0, 1, 50]), np.eye(4, dtype=np.float32)[:3])
    _, ids = index.search(np.ones(4, np.float32), 3, allowed=np.array([False, True]))
    assert ids.tolist() == [[1, -1, -1]]
    _, ids = index.search(np.ones(4, np.float32), 3, allowed=np.zeros(0, bool))
    assert ids.tolist() == [[-1, -1, -1]]


# -- IVF (large catalogues, forced on a smaller set) ------------------------------------------


def test_ivf_recall_at_10_on_clustered_data_is_at_least_095():
    index, vectors, queries = ivf_set()
    assert index.describe().startswith("IVF") and len(index) == 20_000
    _, ids = index.search(queries, 10)
    assert recall(ids, brute_force(vectors, queries, 10)[1]) >= 0.95


def test_ivf_with_a_one_percent_filter_finds_the_allowed_neighbours_and_only_them():
    index, vectors, queries = ivf_set()
    allowed = np.random.default_rng(3).random(len(vectors)) < 0.01
    scores, ids = index.search(queries, 10, allowed)
    assert (ids >= 0).all() and allowed[ids].all()
    assert recall(ids, brute_force(vectors, queries, 10, allowed)[1]) >= 0.95
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first


def test_ivf_with_a_ten_percent_filter_keeps_recall():
    index, vectors, queries = ivf_set()
    allowed = np.random.default_rng(4).random(len(vectors)) < 0.10
    _, ids = index.search(queries, 10, allowed)
    assert allowed[ids[ids >= 0]].all() and (ids >= 0).all()
    assert recall(ids, brute_force(vectors, queries, 10, allowed)[1]) >= 0.95


def test_ivf_with_fewer_allowed_ids_than_k_returns_exactly_those():
    index, vectors, queries = ivf_set()
    allowed = np.zeros(len(vectors), bool)
    allowed[[17, 4242, 19_999]] = True
    scores, ids = index.search(queries[:5], 10, allowed)
    for row in ids:
        assert sorted(row[:3]) == [17, 4242, 19_999] and (row[3:] == -1).all()
    assert np.isneginf(scores[:, 3:]).all()


def test_ivf_filter_refusing_the_query_neighbourhood_still_returns_k_near_best():
    """The 2,000 nearest ids refused (as a refused song's label-mates would be): the lists
    nearest the query hold few allowed ids, yet k come back, as similar as the best allowed
    (past the query's cluster scores are flat, so their ids are not comparable; scores are)."""
    index, vectors, queries = ivf_set()
    for q in queries[:20]:
        near = brute_force(vectors, q[None], 2000)[1][0]
        allowed = np.ones(len(vectors), bool)
        allowed[near] = False
        scores, ids = index.search(q, 10, allowed)
        assert (ids >= 0).all() and allowed[ids].all()
        best = brute_force(vectors, q[None], 10, allowed)[0][0]
        assert scores[0, -1] >= best[-1] - 0.01


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    fraction=st.sampled_from([0.0002, 0.001, 0.005, 0.01, 0.03, 0.1, 0.5, 0.9]),
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 30),
    length=st.integers(0, 25_000),
)
def test_ivf_never_returns_a_disallowed_id_under_random_filters(fraction, seed, k, length):
    index, vectors, queries = ivf_set()
    rng = np.random.default_rng(seed)
    allowed = rng.random(length) < fraction
    present = int(allowed[: len(vectors)].sum())
    _, ids = index.search(queries[rng.integers(0, len(queries), 3)], k, allowed)
    returned = ids[ids >= 0]
    assert (returned < length).all() and allowed[returned].all()
    assert ((ids >= 0).sum(axis=1) == min(k, present)).all()  # never short while more exist


# -- changes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ivf", [False, True], ids=["exact", "ivf"])
def test_remove_and_replace(ivf):
    vectors = clustered(3_000, 32, seed=5)
    index = VectorIndex(32, ivf_from=1_000 if ivf else 50_000)
    index.add(np.arange(3_000), vectors)
    assert index.describe().startswith("IVF" if ivf else "exact")
    target = vectors[10]
    assert index.search(target, 1)[1][0, 0] == 10

    index.remove(np.array([10, 11, 99_999]))  # an absent id is ignored
    assert len(index) == 2_998 and index.vector(10) is None
    assert 10 not in index.search(target, 50)[1]

    elsewhere = unit(np.random.default_rng(6).standard_normal(32))
    index.add(np.array([12, 10]), np.stack([elsewhere, target]))  # 12 replaced, 10 back
    assert len(index) == 2_999
    assert index.search(elsewhere, 1)[1][0, 0] == 12
    np.testing.assert_allclose(index.vector(12), elsewhere, atol=0.02 if ivf else 1e-6)


def test_an_id_given_twice_in_one_add_keeps_the_last_vector():
    index = VectorIndex(4)
    eye = np.eye(4, dtype=np.float32)
    index.add(np.array([5, 5]), eye[:2])
    assert len(index) == 1
    np.testing.assert_allclose(index.vector(5), eye[1])


def test_a_growing_collection_switches_to_ivf_then_retrains():
    vectors = clustered(12_000, 32, seed=7)
    index = VectorIndex(32, ivf_from=2_000)
    index.add(np.arange(1_500), vectors[:1_500])
    assert index.describe() == "exact (1,500 vectors)"
    index.add(np.arange(1_500, 2_500), vectors[1_500:2_500])
    assert index.describe().startswith("IVF") and index.trained_on == 2_500
    index.add(np.arange(2_500, 9_000), vectors[2_500:9_000])  # under 4x its training size
    assert index.trained_on == 2_500
    index.add(np.arange(9_000, 12_000), vectors[9_000:])  # past 4x: rebuilt on all 12k
    assert index.trained_on == 12_000 and len(index) == 12_000
    queries = vectors[::400] + 0.01
    assert recall(index.search(queries, 10)[1], brute_force(vectors, queries, 10)[1]) >= 0.9


def test_searches_go_on_while_vectors_are_added():
    index, _, _ = ivf_set()
    vectors = clustered(3_000, 64, seed=8)
    allowed = np.random.default_rng(9).random(30_000) < 0.05
    errors: list[BaseException] = []
    searched = []
    stop = threading.Event()

    def searching(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                _, ids = index.search(vectors[rng.integers(0, 3_000, 2)], 10, allowed)
                assert allowed[ids[ids >= 0]].all()
                searched.append(1)
        except BaseException as e:  # noqa: BLE001 (reported by the main thread)
            errors.append(e)

    threads = [threading.Thread(target=searching, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    try:
        for start in range(0, 3_000, 500):
            index.add(np.arange(20_000 + start, 20_500 + start), vectors[start : start + 500])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors and searched
    assert len(index) == 23_000
    index.remove(np.arange(20_000, 23_000))  # the shared IVF set is as it was for other tests


@pytest.mark.parametrize(
    ("ids", "vectors", "field"),
    [
        (np.array([1, 2]), np.ones((3, 8)), "vectors"),
        (np.array([-1]), np.ones((1, 8)), "ids"),
        (np.array([0.5]), np.ones((1, 8)), "ids"),
        (np.array([1]), np.zeros((1, 8)), "vectors"),
        (np.array([1]), np.full((1, 8), np.nan), "vectors"),
    ],
)
def test_bad_input_is_refused_naming_the_field(ids, vectors, field):
    with pytest.raises(InvalidInput) as e:
        VectorIndex(8).add(ids, vectors)
    assert e.value.field == field


def test_a_bad_filter_or_query_is_refused():
    index = VectorIndex(8)
    index.add(np.array([1]), np.ones((1, 8)))
    with pytest.raises(InvalidInput, match="allowed"):
        index.search(np.ones(8), 1, allowed=np.array([0, 1]))
    with pytest.raises(InvalidInput, match="8 columns"):
        index.search(np.ones(7), 1)


# -- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ivf", [False, True], ids=["exact", "ivf"])
def test_save_and_load_round_trip(tmp_path: Path, ivf: bool):
    vectors = clustered(3_000, 32, seed=10)
    index = VectorIndex(32, ivf_from=1_000 if ivf else 50_000)
    index.add(np.arange(3_000) + 5, vectors)
    path = tmp_path / "sub" / "songs.vectors"
    index.save(path)
    loaded = VectorIndex.load(path, 32)
    assert loaded.describe() == index.describe() and len(loaded) == 3_000
    allowed = np.random.default_rng(11).random(4_000) < 0.3
    for mask in (None, allowed):
        before, after = index.search(vectors[:20], 10, mask), loaded.search(vectors[:20], 10, mask)
        assert (before[1] == after[1]).all()
        np.testing.assert_allclose(before[0], after[0])
    loaded.add(np.array([1]), vectors[:1])  # still a working index
    assert len(loaded) == 3_001
    assert [p.name for p in path.parent.iterdir()] == ["songs.vectors"]  # no temp file left


def test_a_damaged_or_mismatched_file_is_refused_naming_it(tmp_path: Path):
    index = VectorIndex(16)
    index.add(np.arange(100), np.random.default_rng(12).standard_normal((100, 16)))
    path = tmp_path / "songs.vectors"
    index.save(path)
    good = path.read_bytes()

    with pytest.raises(InvalidInput, match="dimension") as e:
        VectorIndex.load(path, 32)
    assert e.value.path == str(path)
    damaged = bytearray(good)
    damaged[vector_file.HEADER + 200] ^= 0x10
    for bad in (bytes(damaged), good[:-10], good[:100], b"not an index at all"):
        path.write_bytes(bad)
        with pytest.raises(InvalidInput) as e:
            VectorIndex.load(path, 16)
        assert str(path) in str(e.value) and e.value.path == str(path)
    with pytest.raises(InvalidInput, match="cannot open"):
        VectorIndex.load(tmp_path / "missing.vectors", 16)


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch):
    index = VectorIndex(8)
    index.add(np.arange(10), np.random.default_rng(13).standard_normal((10, 8)))
    path = tmp_path / "songs.vectors"
    index.save(path)
    before = path.read_bytes()
    real = vector_file.faiss_module()

    class Failing:
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def PyCallbackIOWriter(sink):  # noqa: N802 (faiss' name)
            return sink

        def write_index(self, idx, writer):
            writer(b"half an index")  # part written, then the disk fills
            raise OSError("No space left on device")

    monkeypatch.setattr(vector_file, "faiss_module", lambda: Failing())
    index.add(np.array([99]), np.ones((1, 8)))
    with pytest.raises(OSError, match="No space"):
        index.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["songs.vectors"]
    monkeypatch.undo()
    assert len(VectorIndex.load(path, 8)) == 10
