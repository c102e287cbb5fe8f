"""The royalties package: cents that always add up, mechanisms that do what they say, and
statements whose every parameter is stated (issue 16).

Property-based (hypothesis) where a property must hold for any period: payouts are never
negative, sum exactly to the pool, do not depend on the order events arrive in, and Top-K
proportional with K at least the number of contributors is proportional.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicapp.royalties import engine
from musicapp.royalties.inequality import gini, lorenz, top_share
from musicapp.royalties.money import euros, largest_remainder
from musicapp.royalties.period import (
    Contribution,
    HolderTerms,
    Policy,
    UseEvent,
    compute,
)
from musicapp.royalties.statement import differences, statement_of, to_json

SONGS = [f"s{i}" for i in range(6)]
HOLDERS = [f"h{i}" for i in range(4)]
USES = ["private", "non_commercial", "commercial"]
LEVELS = ["song", "parameter", "audio", "temporal"]
MECHANISMS = [engine.PROPORTIONAL, engine.TOP_K_UNIFORM, engine.TOP_K_PROPORTIONAL]


@st.composite
def periods(draw: st.DrawFn) -> tuple[list[UseEvent], dict[str, list[HolderTerms]]]:
    rights: dict[str, list[HolderTerms]] = {}
    for song in SONGS:
        holders = draw(st.lists(st.sampled_from(HOLDERS), min_size=0, max_size=3, unique=True))
        rights[song] = [
            HolderTerms(
                h,
                draw(st.floats(0.01, 1.0)),
                draw(
                    st.dictionaries(
                        st.sampled_from(USES + [f"{u}/{lv}" for u in USES for lv in LEVELS]),
                        st.floats(0.0, 5.0),
                        max_size=4,
                    )
                ),
                draw(st.integers(1, 3)),
            )
            for h in holders
        ]
    events = []
    for i in range(draw(st.integers(0, 8))):
        songs = draw(st.lists(st.sampled_from(SONGS), max_size=4, unique=True))
        raw = [draw(st.floats(0.01, 1.0)) for _ in songs]
        part = draw(st.floats(0.1, 1.0))
        contributions = tuple(
            Contribution(s, part * w / sum(raw), draw(st.sampled_from(LEVELS)))
            for s, w in zip(songs, raw, strict=True)
        )
        events.append(UseEvent(f"e{i:02d}", draw(st.sampled_from(USES)), contributions))
    return events, rights


policies = st.builds(
    Policy,
    mechanism=st.sampled_from(MECHANISMS),
    k=st.integers(1, 4),
    pricing=st.sampled_from(["tier", "flat"]),
    pool_cents=st.one_of(st.none(), st.integers(0, 10**9)),
    training_fraction=st.sampled_from([0.0, 0.1, 0.5]),
    training_songs=st.sampled_from([(), ("s0", "s1"), ("s5",)]),
    minimum_cents=st.sampled_from([0, 50, 10_000]),
)
carries = st.dictionaries(st.sampled_from(HOLDERS), st.integers(0, 5000), max_size=4)


@settings(max_examples=300, deadline=None)
@given(periods(), policies, carries)
def test_payouts_are_never_negative_and_add_up_to_the_pool_exactly(period, policy, carried):
    events, rights = period
    r = compute(events, rights, policy, carried)
    assert all(p.earned_cents >= 0 and p.paid_cents >= 0 for p in r.payouts)
    assert all(p.carried_out_cents >= 0 for p in r.payouts)
    assert r.undistributed_cents >= 0
    paid = sum(p.paid_cents for p in r.payouts)
    kept = sum(p.carried_out_cents for p in r.payouts)
    assert paid + kept + r.undistributed_cents == r.pool_cents + sum(carried.values())
    if not carried and policy.minimum_cents == 0:
        assert paid + r.undistributed_cents == r.pool_cents
    # Lines add up to each holder's earnings, to the cent.
    for p in r.payouts:
        assert sum(ln.amount_cents for ln in r.lines if ln.holder_id == p.holder_id) == (
            p.earned_cents
        )
    # Below the minimum nothing is paid and everything is carried; at or above, all is paid.
    for p in r.payouts:
        due = p.earned_cents + p.carried_in_cents
        if due < policy.minimum_cents:
            assert (p.paid_cents, p.carried_out_cents) == (0, due)
        else:
            assert (p.paid_cents, p.carried_out_cents) == (due, 0)


@settings(max_examples=200, deadline=None)
@given(periods(), policies, st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_events_and_records_arrive_in(
    period, policy, rnd: random.Random
):
    events, rights = period
    shuffled_events = [
        UseEvent(e.event_id, e.use, tuple(rnd.sample(e.contributions, len(e.contributions))))
        for e in rnd.sample(events, len(events))
    ]
    shuffled_rights = {
        s: rnd.sample(terms, len(terms)) for s, terms in rnd.sample(list(rights.items()), 6)
    }
    a = compute(events, rights, policy)
    b = compute(shuffled_events, shuffled_rights, policy)
    assert a.payouts == b.payouts
    assert a.lines == b.lines
    assert a.inputs_sha256 == b.inputs_sha256


@settings(max_examples=200, deadline=None)
@given(periods(), st.sampled_from(["tier", "flat"]), st.one_of(st.none(), st.integers(0, 10**7)))
def test_top_k_proportional_with_k_at_least_the_contributors_is_proportional(period, pricing, pool):
    events, rights = period
    k = max([len(e.contributions) for e in events], default=1) or 1
    prop = compute(events, rights, Policy(pricing=pricing, pool_cents=pool))
    top = compute(
        events,
        rights,
        Policy(mechanism=engine.TOP_K_PROPORTIONAL, k=k, pricing=pricing, pool_cents=pool),
    )
    assert [(p.holder_id, p.paid_cents) for p in prop.payouts] == [
        (p.holder_id, p.paid_cents) for p in top.payouts
    ]


def test_top_k_keeps_the_k_largest_shares_and_uniform_gives_them_equal_parts():
    uses = engine.Uses(
        1,
        np.zeros(3, np.int64),
        np.arange(3, dtype=np.int64),
        np.array([0.5, 0.2, 0.3]),
        np.zeros(3, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0),
    )
    assert engine.reshape_shares(uses, engine.TOP_K_PROPORTIONAL, 2) == pytest.approx(
        [0.625, 0.0, 0.375]
    )
    assert engine.reshape_shares(uses, engine.TOP_K_UNIFORM, 2) == pytest.approx([0.5, 0.0, 0.5])
    assert engine.reshape_shares(uses, engine.PROPORTIONAL, 2) == pytest.approx([0.5, 0.2, 0.3])


def test_proportional_tier_prices_pay_share_times_split_times_price_by_hand():
    # e1 commercial: s1 half at song level (h1 60 %, h2 40 %, 1 EUR), s2 30 % at audio level
    # (h3, 2 EUR for commercial/audio, 9 EUR for commercial: the more specific tier wins).
    events = [
        UseEvent("e1", "commercial", (Contribution("s1", 0.5), Contribution("s2", 0.3, "audio")))
    ]
    rights = {
        "s1": [HolderTerms("h1", 0.6, {"commercial": 1.0}), HolderTerms("h2", 0.4, {"commercial": 1.0})],
        "s2": [HolderTerms("h3", 1.0, {"commercial": 9.0, "commercial/audio": 2.0})],
    }  # fmt: skip
    r = compute(events, rights, Policy())
    # 0.5 x 0.6 x 1 EUR = 30 cents; 0.5 x 0.4 x 1 = 20; 0.3 x 1 x 2 = 60.
    assert [(p.holder_id, p.paid_cents) for p in r.payouts] == [("h1", 30), ("h2", 20), ("h3", 60)]
    assert r.pool_cents == 110


def test_a_holder_below_the_minimum_is_paid_next_period_with_what_was_carried():
    rights = {"s1": [HolderTerms("big", 0.9), HolderTerms("small", 0.1)]}
    events = [UseEvent("e1", "commercial", (Contribution("s1", 1.0),))]
    policy = Policy(pricing="flat", pool_cents=10_000, minimum_cents=1500)
    first = compute(events, rights, policy)
    small = first.payout("small")
    assert small is not None and (small.earned_cents, small.paid_cents) == (1000, 0)
    assert small.carried_out_cents == 1000
    second = compute(events, rights, policy, {"small": small.carried_out_cents})
    small2 = second.payout("small")
    assert small2 is not None and small2.paid_cents == 2000 and small2.carried_out_cents == 0


def test_the_training_pool_is_flat_rate_over_the_training_catalogue_or_follows_estimates():
    rights = {s: [HolderTerms(f"holder-{s}", 1.0)] for s in ("a", "b", "c")}
    events = [
        UseEvent("e1", "private", (Contribution("a", 1.0),), training={"c": 3.0, "b": 1.0}),
        UseEvent("e2", "private", (Contribution("a", 1.0),)),
    ]
    flat = compute(
        events,
        rights,
        Policy(pricing="flat", pool_cents=1000, training_fraction=0.2, training_songs=("b", "c")),
    )
    paid = {p.holder_id: p.paid_cents for p in flat.payouts}
    assert paid == {"holder-a": 800, "holder-b": 100, "holder-c": 100}
    est = compute(
        events,
        rights,
        Policy(
            pricing="flat",
            pool_cents=1000,
            training_fraction=0.2,
            training="estimate",
            training_songs=("b", "c"),
        ),  # fmt: skip
    )
    paid = {p.holder_id: p.paid_cents for p in est.payouts}
    # e1's 100 cents of training money follow its estimates (c 75, b 25); e2's are flat (50+50).
    assert paid == {"holder-a": 800, "holder-b": 75, "holder-c": 125}
    assert any(ln.kind == "training" and ln.song_id == "c" for ln in est.lines)


def test_a_changed_mechanism_parameter_is_stated_and_never_silent():
    rights = {s: [HolderTerms(f"h{s}", 1.0)] for s in ("a", "b", "c")}
    events = [
        UseEvent(
            "e1",
            "commercial",
            (Contribution("a", 0.5), Contribution("b", 0.3), Contribution("c", 0.2)),
        )  # fmt: skip
    ]
    one = statement_of(
        compute(events, rights, Policy(mechanism=engine.TOP_K_UNIFORM, k=1, pricing="flat",
                                       pool_cents=900)), "2026-12-01", "2027-01-01")  # fmt: skip
    two = statement_of(
        compute(events, rights, Policy(mechanism=engine.TOP_K_UNIFORM, k=2, pricing="flat",
                                       pool_cents=900)), "2026-12-01", "2027-01-01")  # fmt: skip
    assert one["policy"]["k"] == 1 and two["policy"]["k"] == 2
    diff = differences(one, two)
    assert "statement.policy.k: stated 1, recomputed 2" in diff
    assert differences(one, one) == []
    assert to_json(one) == to_json(dict(reversed(list(one.items()))))


def test_bad_policies_and_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match="mechanism"):
        Policy(mechanism="winner_takes_all")
    with pytest.raises(ValueError, match="k: 0"):
        Policy(mechanism=engine.TOP_K_UNIFORM, k=0)
    with pytest.raises(ValueError, match="training_fraction"):
        Policy(training_fraction=1.5)
    with pytest.raises(ValueError, match="e1 appears twice"):
        compute([UseEvent("e1", "private", ()), UseEvent("e1", "private", ())], {}, Policy())
    with pytest.raises(ValueError, match="share of s1"):
        compute([UseEvent("e1", "private", (Contribution("s1", 1.5),))], {}, Policy())


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**12), st.lists(st.floats(0, 1e6), min_size=1, max_size=50))
def test_largest_remainder_always_sums_to_the_total(total, weights):
    w = np.array(weights)
    if w.sum() <= 0:
        return
    parts = largest_remainder(total, w)
    assert int(parts.sum()) == total and np.all(parts >= 0)
    exact = w * total / w.sum()
    assert np.all(np.abs(parts - exact) < 1 + 1e-6 * max(1.0, total))


def _gini_by_definition(x: np.ndarray) -> float:
    """The mean absolute difference over twice the mean, O(n^2)."""
    n = x.size
    if n == 0 or x.sum() <= 0:
        return 0.0
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean()))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1e6), max_size=60))
def test_gini_agrees_with_the_quadratic_definition(values):
    x = np.array(values, dtype=np.float64)
    assert gini(x) == pytest.approx(_gini_by_definition(x), abs=1e-9)


def test_inequality_measures_on_known_populations():
    assert gini(np.full(10, 5.0)) == 0.0
    assert gini(np.array([0, 0, 0, 100])) == pytest.approx(0.75)
    assert top_share(np.array([1.0] * 99 + [901.0]), 0.01) == pytest.approx(0.901)
    pop, inc = lorenz(np.array([1.0, 1.0, 2.0]), points=4)
    assert pop[-1] == 1.0 and inc[-1] == pytest.approx(1.0) and inc[0] == 0.0
    assert euros(1234) == "12.34" and euros(5) == "0.05"
