"""The yardsticks on hand-made data whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from musicapp.attribution.tda.metrics import (
    bootstrap_ci,
    lds,
    leave_out_effect,
    ranks,
    spearman,
    spearman_vs_truth,
)


def test_ranks_share_ties():
    assert list(ranks([10, 30, 20, 30])) == [1.0, 3.5, 2.0, 3.5]


def test_spearman_known_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # d = (0, 0, -1, 1): rho = 1 - 6*2 / (4*15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(0.8)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0  # no ranking on one side: uninformative


def test_leave_out_effect_and_lds_on_a_hand_made_datamodel():
    # 4 subsets of 3 items; the sample's loss is 5 - 2*[item0 in] - 1*[item1 in]: item 0 helps
    # twice as much as item 1, item 2 does nothing.
    mask = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [0, 0, 0]], dtype=bool)
    losses = 5 - 2 * mask[:, 0] - 1 * mask[:, 1]
    effect = leave_out_effect(mask, losses)
    assert effect == pytest.approx([2.0, 1.0, 0.0])
    assert spearman_vs_truth([9, 5, 1], effect) == pytest.approx(1.0)
    assert spearman_vs_truth([1, 5, 9], effect) == pytest.approx(-1.0)
    # predicted sums per subset with the true coefficients: 3, 2, 1, 0 vs -loss 0, -1, -2, -3
    assert lds([2, 1, 0], mask, losses) == pytest.approx(1.0)
    assert lds([-2, -1, 0], mask, losses) == pytest.approx(-1.0)


def test_an_item_in_every_subset_has_no_ground_truth():
    mask = np.array([[1, 1], [1, 0]], dtype=bool)
    effect = leave_out_effect(mask, [1.0, 2.0])
    assert np.isnan(effect[0]) and effect[1] == pytest.approx(1.0)
    assert spearman_vs_truth([5.0, 1.0], effect) == 0.0  # one item left: nothing to rank


def test_bootstrap_interval_holds_the_mean_and_narrows_with_agreement():
    mean, lo, hi = bootstrap_ci([0.2, 0.4, 0.6, 0.8])
    assert mean == pytest.approx(0.5) and lo < mean < hi
    assert bootstrap_ci([0.3] * 10) == pytest.approx((0.3, 0.3, 0.3))
    with pytest.raises(ValueError):
        bootstrap_ci([])
