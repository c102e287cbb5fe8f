"""TDA on a tiny random stand-in model: a training item that IS the generated sequence must
come out on top, runs must repeat exactly, and shares must be payable weights."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from musicapp.attribution.tda.api import attribute, shares  # noqa: E402
from musicapp.attribution.tda.trak import Projector, TrakIndex  # noqa: E402
from musicapp.attribution.tda.unlearning import UnlearningIndex, grid_search  # noqa: E402


@pytest.fixture(scope="module")
def setup(tiny_random_lm, items_of):
    model = tiny_random_lm()
    items = items_of(12)
    generated = items[5][1][0]  # the first window of song-5, verbatim
    return model, items, generated


def top(scores: dict[str, float]) -> str:
    return max(scores, key=lambda k: scores[k])


@pytest.mark.parametrize("projection", ["rademacher", "sjlt"])
def test_tiny_random_model_trak_puts_the_copied_item_first(setup, projection):
    model, items, generated = setup
    scores = attribute(model, items, generated, "trak", dim=256, projection=projection)
    assert top(scores) == "song-5"
    rest = [s for k, s in scores.items() if k != "song-5"]
    assert scores["song-5"] > 3 * max(abs(s) for s in rest)


def test_tiny_random_model_unlearning_puts_the_copied_item_first(setup):
    model, items, generated = setup
    scores = attribute(model, items, generated, "unlearning", lr=1e-2, steps=2)
    assert top(scores) == "song-5"
    assert scores["song-5"] > 0


def test_tiny_random_model_scores_repeat_exactly_for_a_seed(setup):
    model, items, generated = setup
    a = attribute(model, items, generated, "trak", dim=128, seed=3)
    b = attribute(model, items, generated, "trak", dim=128, seed=3)
    c = attribute(model, items, generated, "trak", dim=128, seed=4)
    assert a == b
    assert a != c  # the seed does choose the projection
    u1 = attribute(model, items, generated, "unlearning", lr=1e-3, steps=2)
    u2 = attribute(model, items, generated, "unlearning", lr=1e-3, steps=2)
    assert u1 == u2
    r = attribute(model, items, generated, "random", seed=1)
    assert r == attribute(model, items, generated, "random", seed=1)


def test_unlearning_leaves_the_callers_model_untouched(setup):
    model, items, generated = setup
    before = {k: v.clone() for k, v in model.state_dict().items()}
    attribute(model, items, generated, "unlearning", lr=1e-2, steps=3)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_tiny_random_model_ensemble_and_index_agree_with_the_one_shot_call(setup, tiny_random_lm):
    model, items, generated = setup
    other = tiny_random_lm(seed=1)
    index = TrakIndex([model, other], items, dim=128)
    one_shot = attribute(model, items, generated, "trak", models=[model, other], dim=128)
    assert np.allclose(index.scores(generated), list(one_shot.values()))
    assert top(one_shot) == "song-5"


def test_the_dense_projection_preserves_inner_products_roughly():
    import torch

    torch.manual_seed(0)
    x = torch.randn(2, 5000, dtype=torch.float64)
    for kind in ("rademacher", "sjlt"):
        p = Projector(5000, 2048, seed=0, kind=kind)(x)
        assert float(p[0] @ p[0]) == pytest.approx(float(x[0] @ x[0]), rel=0.15)
        assert abs(float(p[0] @ p[1])) < 0.15 * float(x[0] @ x[0])


def test_tiny_random_model_grid_search_picks_a_setting_that_took(setup):
    model, items, generated = setup
    index = UnlearningIndex(model, items)
    chosen, rows, per_setting = grid_search(index, [generated], lrs=(1e-3, 1e-2), steps=(1, 3))
    assert len(rows) == 4 and len(per_setting) == 4
    row = next(r for r in rows if r.setting == chosen)
    assert row.took and row.sample_rise >= 0.05
    assert all(-1.0 <= r.consistency <= 1.0 for r in rows)


def test_embedding_and_ngram_put_the_copied_item_first(setup):
    model, items, generated = setup
    assert top(attribute(model, items, generated, "ngram")) == "song-5"
    assert top(attribute(model, items, generated, "embedding")) == "song-5"


def test_shares_are_non_negative_and_sum_to_one():
    s = shares({"a": 3.0, "b": 1.0, "c": -2.0, "d": 0.0})
    assert s == {"a": 0.75, "b": 0.25}
    assert sum(shares({"a": 0.2, "b": 0.1, "c": 0.7}).values()) == pytest.approx(1.0)
    assert shares({"a": 3.0, "b": 2.0, "c": 1.0}, top=2) == {"a": 0.6, "b": 0.4}
    assert shares({"a": -1.0, "b": 0.0}) == {}  # nothing to pay: the flat-rate pool instead


def test_bad_input_is_named(tiny_random_lm, items_of):
    model = tiny_random_lm()
    items = items_of(3)
    with pytest.raises(ValueError, match="method"):
        attribute(model, items, items[0][1][0], "psychic")
    with pytest.raises(ValueError, match="generated"):
        attribute(model, items, [1], "trak")
    with pytest.raises(ValueError, match="twice"):
        attribute(model, [items[0], items[0]], items[0][1][0], "trak")
    with pytest.raises(ValueError, match="top"):
        shares({"a": 1.0}, top=0)


def test_tiny_random_composer_model_works_with_trak_and_unlearning(items_of):
    """The real ComposerModel (tied embeddings, causal SDPA, PAD-masked loss), tiny and
    random: per-example gradients go through it and the copied item still comes first."""
    from musicapp.generation.composer.model import ComposerConfig, ComposerModel

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = ComposerModel(ComposerConfig(vocab=40, d_model=16, n_layers=1, n_heads=2, context=32))
    items = [(k, [[t or 1 for t in w] for w in ws]) for k, ws in items_of(8)]  # no PAD (0)
    generated = items[3][1][1]
    for method, settings in (("trak", {"dim": 256}), ("unlearning", {"lr": 1e-2, "steps": 2})):
        scores = attribute(model, items, generated, method, **settings)
        assert max(scores, key=lambda k: scores[k]) == "song-3", method


def test_tiny_random_model_training_attribution_is_what_the_royalties_read(setup):
    from musicapp.attribution.tda.api import training_attribution

    model, items, generated = setup
    weights = training_attribution(model, items, generated, "trak", top=3, dim=128)
    assert 1 <= len(weights) <= 3 and "song-5" in weights
    assert sum(weights.values()) == pytest.approx(1.0) and min(weights.values()) > 0
    assert max(weights, key=lambda k: weights[k]) == "song-5"
