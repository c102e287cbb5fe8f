"""The inequality simulator: one period of usage at scale, every mechanism side by side.

Usage is synthetic unless given: generations pick 1 to ``max_refs`` references from the
catalogue with Zipf popularity (exponent ``zipf``: the most used song is used ``2**zipf`` times
as often as the second), shares drawn as the app's engines make them (a Dirichlet over the
references, with a user part in a quarter of the takes), a use (private, non-commercial,
commercial) and a level per reference. Songs have one to three holders with random splits;
holders own songs with Zipf-distributed catalogue sizes (labels and a long tail). The same
usage is then paid out under each mechanism (``engine.compute``) and measured: Gini,
top-1 % and top-10 % shares, holders paid at or above the minimum.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from musicapp.royalties import engine, period
from musicapp.royalties.inequality import gini, top_share
from musicapp.royalties.money import largest_remainder

USES = ("private", "non_commercial", "commercial")
USE_WEIGHTS = (0.5, 0.3, 0.2)
LEVEL_COUNT = 4
# Tier prices per use in euros (private, non-commercial, commercial); levels scale them:
# song 1.0, parameter 0.5, audio 1.5, temporal 1.2 (a take that reuses recorded audio pays most).
USE_PRICES = (0.002, 0.01, 0.05)
LEVEL_FACTORS = (1.0, 0.5, 1.5, 1.2)


@dataclass(frozen=True)
class Usage:
    """A period's synthetic (or exported) usage in engine form."""

    uses: engine.Uses
    rights: engine.Rights
    n_holders: int
    n_songs: int


@dataclass(frozen=True)
class MechanismFigures:
    mechanism: str
    k: int | None
    payouts_cents: NDArray[np.int64]  # per holder
    gini: float
    top1: float
    top10: float
    paid_holders: int  # at or above the minimum (and above zero)
    seconds: float


def _zipf_weights(n: int, exponent: float) -> NDArray[np.float64]:
    w: NDArray[np.float64] = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return w / float(w.sum())


def synthetic_usage(
    n_events: int,
    n_songs: int,
    n_holders: int,
    *,
    zipf: float = 1.0,
    max_refs: int = 4,
    seed: int = 0,
) -> Usage:
    """Synthetic usage (module docstring), vectorised: ten million events in seconds."""
    if min(n_events, n_songs, n_holders) < 1:
        raise ValueError("n_events, n_songs and n_holders must each be at least 1")
    if not 0.0 <= zipf <= 10.0:  # NaN fails too
        raise ValueError(f"zipf: {zipf} is not a popularity exponent from 0 to 10")
    if max_refs < 1:
        raise ValueError(f"max_refs: {max_refs} must be at least 1")
    rng = np.random.default_rng(seed)
    # Rights: each song 1-3 holders; which holders own which songs is Zipf-skewed too.
    per_song = rng.choice([1, 2, 3], size=n_songs, p=[0.6, 0.3, 0.1])
    ptr = np.zeros(n_songs + 1, np.int64)
    ptr[1:] = np.cumsum(per_song)
    holder_p = _zipf_weights(n_holders, 0.8)
    row_holder = rng.choice(n_holders, size=int(ptr[-1]), p=holder_p).astype(np.int64)
    raw_split = rng.gamma(2.0, size=int(ptr[-1]))
    song_of_row = np.repeat(np.arange(n_songs), per_song)
    row_split = raw_split / np.bincount(song_of_row, weights=raw_split)[song_of_row]
    # Tier prices: use price x level factor, with each holder's own markup (0.5x to 2x).
    markup = np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=n_holders))[row_holder]
    tiers = np.outer(USE_PRICES, LEVEL_FACTORS).reshape(-1)  # tier = use * LEVEL_COUNT + level
    row_price = markup[:, None] * tiers[None, :]
    # Events: references per event, songs by popularity (a random permutation: popularity is
    # not song order), shares Dirichlet(1) scaled by the catalogue part.
    n_refs = rng.integers(1, max_refs + 1, size=n_events)
    entry_use = np.repeat(np.arange(n_events, dtype=np.int64), n_refs)
    popularity = _zipf_weights(n_songs, zipf)[rng.permutation(n_songs)]
    cdf = np.cumsum(popularity)
    entry_song = np.minimum(
        np.searchsorted(cdf, rng.random(entry_use.size) * cdf[-1]), n_songs - 1
    ).astype(np.int64)
    g = rng.gamma(1.0, size=entry_use.size)
    catalogue_part = np.where(rng.random(n_events) < 0.25, rng.uniform(0.3, 0.9, n_events), 1.0)
    share = g / np.bincount(entry_use, weights=g, minlength=n_events)[entry_use]
    share *= catalogue_part[entry_use]
    use_of_event = rng.choice(len(USES), size=n_events, p=USE_WEIGHTS)
    level = rng.integers(0, LEVEL_COUNT, size=entry_use.size)
    tier = use_of_event[entry_use] * LEVEL_COUNT + level
    # Entries sorted by use and, within a use, by song (the engine's order).
    order = np.lexsort((entry_song, entry_use))
    empty_i = np.zeros(0, np.int64)
    uses = engine.Uses(
        n_events,
        entry_use[order],
        entry_song[order],
        share[order],
        tier[order].astype(np.int64),
        empty_i,
        empty_i,
        np.zeros(0),
    )
    return Usage(uses, engine.Rights(ptr, row_holder, row_split, row_price), n_holders, n_songs)


MECHANISMS: tuple[tuple[str, int | None], ...] = (
    (engine.PROPORTIONAL, None),
    (engine.TOP_K_PROPORTIONAL, 1),
    (engine.TOP_K_UNIFORM, 1),
    (engine.TOP_K_PROPORTIONAL, 3),
    (engine.TOP_K_UNIFORM, 3),
)


def run(
    usage: Usage,
    *,
    mechanisms: Sequence[tuple[str, int | None]] = MECHANISMS,
    pool_cents: int = 100_000_000,
    minimum_cents: int = 1000,
    pricing: str = "tier",
) -> list[MechanismFigures]:
    """The same usage paid out under each (mechanism, K): figures per mechanism."""
    out = []
    t0 = time.perf_counter()
    prepared = engine.prepare(usage.uses, usage.rights, pricing)
    shared_s = time.perf_counter() - t0  # counted once, in the first mechanism's seconds
    for mechanism, k in mechanisms:
        t0 = time.perf_counter()
        res = engine.compute(
            usage.uses,
            usage.rights,
            usage.n_holders,
            mechanism=mechanism,
            k=k or 1,
            pricing=pricing,
            pool_cents=pool_cents,
            prepared=prepared,
        )
        paid = largest_remainder(pool_cents, res.holder_cents)
        seconds = time.perf_counter() - t0 + shared_s
        shared_s = 0.0
        out.append(
            MechanismFigures(
                mechanism,
                k,
                paid,
                gini(paid),
                top_share(paid, 0.01),
                top_share(paid, 0.10),
                int(np.count_nonzero((paid >= minimum_cents) & (paid > 0))),
                seconds,
            )
        )
    return out


def run_period(
    events: Sequence[period.UseEvent],
    rights: Mapping[str, Sequence[period.HolderTerms]],
    *,
    mechanisms: Sequence[tuple[str, int | None]] = MECHANISMS,
    pool_cents: int | None = None,
    minimum_cents: int = 0,
    pricing: str = "flat",
) -> list[MechanismFigures]:
    """Every mechanism over real events (a ledger, or a server's basis): the same figures."""
    out = []
    for mechanism, k in mechanisms:
        t0 = time.perf_counter()
        policy = period.Policy(
            mechanism=mechanism, k=k or 1, pricing=pricing, pool_cents=pool_cents
        )
        result = period.compute(events, rights, policy)
        paid = np.array([p.earned_cents for p in result.payouts], np.int64)
        out.append(
            MechanismFigures(
                mechanism,
                k,
                paid,
                gini(paid),
                top_share(paid, 0.01),
                top_share(paid, 0.10),
                int(np.count_nonzero((paid >= minimum_cents) & (paid > 0))),
                time.perf_counter() - t0,
            )
        )
    return out


def label(figures: MechanismFigures) -> str:
    """'proportional', 'Top-1 proportional', 'Top-3 uniform'."""
    if figures.mechanism == engine.PROPORTIONAL:
        return "proportional"
    kind = "uniform" if figures.mechanism == engine.TOP_K_UNIFORM else "proportional"
    return f"Top-{figures.k} {kind}"
