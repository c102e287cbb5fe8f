"""The vectorised core: a period's uses as flat arrays in, exact amounts per holder out.

One engine serves everything from a take's preview to a period of ten million generations
(``benchmarks/royalties.py``); ``period.py`` turns events and consent records into these
arrays and back. The rules (``docs/royalties.md``):

1. Each use (a generation or a priced export) has *entries*: the catalogue songs in it with
   their share of the output (the user's own audio is no entry: it owes nobody) and the level
   the song was used at. Each song has *rights rows*: its holders, their split, and their
   price per tier (use, level) from the consent version that priced it.
2. The mechanism reshapes each use's shares, keeping the use's catalogue total:
   proportional leaves them; Top-K proportional keeps the K largest and scales them up;
   Top-K uniform gives the K largest an equal part. Ties: the earlier song id.
3. A use's weight is sum(share x split x price) over its rows (pricing "tier"), or
   sum(share x split) (pricing "flat": every use counts the same per share). The pool (given,
   or the period's priced revenue) goes to uses in proportion to their weights.
4. A use's money: the training fraction to the training pool, the rest to its rows in
   proportion to (reshaped share x split x price).
5. The training pool goes to songs by the engine's training-data attribution estimates where
   a use has them and the policy asks for it, else flat over the training catalogue, then to
   holders by split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

PROPORTIONAL = "proportional"
TOP_K_UNIFORM = "top_k_uniform"
TOP_K_PROPORTIONAL = "top_k_proportional"
MECHANISMS = (PROPORTIONAL, TOP_K_UNIFORM, TOP_K_PROPORTIONAL)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
# Indices into rows and entries: int32 while they fit (half the memory at ten million events).
Idx = NDArray[np.signedinteger[Any]]


@dataclass(frozen=True)
class Uses:
    """A period's uses, flat. Entries are sorted by use; within a use by song index."""

    n_uses: int
    entry_use: I64  # use index of each entry
    entry_song: I64  # song index
    entry_share: F64  # share of the output, 0..1
    entry_tier: I64  # tier index (use x level) for the price lookup
    # training-data attribution estimates per use (may be empty): use, song, weight
    est_use: I64
    est_song: I64
    est_weight: F64


@dataclass(frozen=True)
class Rights:
    """Songs' rights rows in CSR form: the rows of song s are song_ptr[s]:song_ptr[s+1]."""

    song_ptr: I64
    row_holder: I64
    row_split: F64
    row_price: F64  # (rows, tiers) price per use in euros


@dataclass(frozen=True)
class Outcome:
    """Exact (float) amounts in cents: per holder, and per row of the expansion when kept."""

    holder_cents: F64  # inference + training, per holder index
    pool_cents: float  # the pool distributed (given, or priced revenue)
    undistributed_cents: float  # pool no use could take (no weight at all)
    # per expanded row (keep_rows=True only): entry, holder, right row, reshaped share, amount
    row_entry: Idx | None = None
    row_holder: Idx | None = None
    row_right: Idx | None = None
    row_share: F64 | None = None
    row_cents: F64 | None = None
    # training money per (song, holder) right row
    training_right_cents: F64 | None = None


def ranks(uses: Uses) -> I64:
    """Each entry's rank inside its use: largest share first; ties keep the entry order (by
    song), lexsort being stable."""
    use = uses.entry_use
    order = np.lexsort((-uses.entry_share, use))
    first = np.searchsorted(use[order], use[order], side="left")
    rank = np.empty(use.size, np.int64)
    rank[order] = np.arange(use.size) - first
    return rank


def reshape_shares(uses: Uses, mechanism: str, k: int, rank: Idx | None = None) -> F64:
    """Each entry's share after the mechanism (entries sorted by use); ``rank`` from ``ranks``
    when several mechanisms reshape the same uses."""
    share = uses.entry_share
    if mechanism == PROPORTIONAL or share.size == 0:
        return share.copy()
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism: {mechanism!r} is not one of {', '.join(MECHANISMS)}")
    if k < 1:
        raise ValueError(f"k: {k} must be at least 1")
    use = uses.entry_use
    rank = ranks(uses) if rank is None else rank
    keep = (rank < k) & (share > 0)
    total = np.bincount(use, weights=share, minlength=uses.n_uses)
    out = np.zeros_like(share)
    if mechanism == TOP_K_UNIFORM:
        kept_n = np.bincount(use[keep], minlength=uses.n_uses).astype(np.float64)
        out[keep] = total[use[keep]] / kept_n[use[keep]]
    else:
        kept_sum = np.bincount(use[keep], weights=share[keep], minlength=uses.n_uses)
        out[keep] = share[keep] * total[use[keep]] / kept_sum[use[keep]]
    return out


def _index_type(*sizes: int) -> type[np.signedinteger[Any]]:
    return np.int32 if max(sizes, default=0) < 2**31 - 1 else np.int64


def _expand(uses: Uses, rights: Rights) -> tuple[Idx, Idx]:
    """(entry, right row) for every rights row of every entry's song."""
    lo = rights.song_ptr[uses.entry_song]
    n = rights.song_ptr[uses.entry_song + 1] - lo
    total = int(n.sum())
    small = _index_type(total, uses.entry_song.size, rights.row_holder.size)
    entry = np.repeat(np.arange(uses.entry_song.size, dtype=small), n)
    # row = lo + (position - first position of the entry's rows)
    row = np.repeat((lo - (np.cumsum(n) - n)).astype(small), n)
    row += np.arange(total, dtype=small)
    return entry, row


@dataclass(frozen=True)
class Prepared:
    """What every mechanism shares for one period and pricing: the expansion of entries to
    rights rows, each row's split x price, each use's weight, and the entries' ranks."""

    pricing: str
    entry: Idx
    row: Idx
    use: Idx
    holder: Idx
    split_price: F64
    weight: F64  # per use
    rank: Idx


def prepare(uses: Uses, rights: Rights, pricing: str = "tier") -> Prepared:
    if pricing not in ("tier", "flat"):
        raise ValueError(f"pricing: {pricing!r} is not 'tier' or 'flat'")
    entry, row = _expand(uses, rights)
    use = uses.entry_use[entry].astype(entry.dtype)
    holder = rights.row_holder[row].astype(entry.dtype)
    split_price = rights.row_split[row]
    if pricing == "tier":
        split_price *= rights.row_price[row, uses.entry_tier[entry]]
    weight = _per_use(use, uses.entry_share[entry] * split_price, uses.n_uses)
    rank = ranks(uses).astype(entry.dtype)
    return Prepared(pricing, entry, row, use, holder, split_price, weight, rank)


def _per_use(use: Idx, values: F64, n: int) -> F64:
    return np.bincount(use, weights=values, minlength=n).astype(np.float64)


def compute(
    uses: Uses,
    rights: Rights,
    n_holders: int,
    *,
    mechanism: str = PROPORTIONAL,
    k: int = 3,
    pricing: str = "tier",
    pool_cents: float | None = None,
    training_fraction: float = 0.0,
    training: str = "flat",
    training_songs: I64 | None = None,
    keep_rows: bool = False,
    prepared: Prepared | None = None,
) -> Outcome:
    """Exact amounts (float cents) per holder for one period (module docstring); pass
    ``prepared`` (``prepare``, same pricing) to share the work between mechanisms."""
    if prepared is None:
        prepared = prepare(uses, rights, pricing)
    elif prepared.pricing != pricing:
        raise ValueError(f"pricing: {pricing!r}, but prepared for {prepared.pricing!r}")
    if training not in ("flat", "estimate"):
        raise ValueError(f"training: {training!r} is not 'flat' or 'estimate'")
    if not 0.0 <= training_fraction <= 1.0:
        raise ValueError(f"training_fraction: {training_fraction} is not in [0, 1]")
    reshaped = reshape_shares(uses, mechanism, k, prepared.rank)
    entry, row, use = prepared.entry, prepared.row, prepared.use
    weight = prepared.weight
    total_weight = float(weight.sum())
    # The pool: given, or what the period's uses are priced at (euros to cents).
    pool = float(pool_cents) if pool_cents is not None else total_weight * 100.0
    if total_weight <= 0:
        empty: F64 = np.zeros(n_holders)
        return Outcome(empty, pool, pool)
    revenue = pool * weight / total_weight
    inference = revenue * (1.0 - training_fraction)
    row_w = reshaped[entry] * prepared.split_price
    row_w_total = _per_use(use, row_w, uses.n_uses)
    # A use whose reshaped rows weigh nothing (every kept song unpriced) keeps its weights.
    fallback = row_w_total <= 0
    if np.any(fallback):
        orig = uses.entry_share[entry] * prepared.split_price
        swap = fallback[use]
        row_w = np.where(swap, orig, row_w)
        row_w_total = _per_use(use, row_w, uses.n_uses)
    row_cents = inference[use] * row_w / np.where(row_w_total > 0, row_w_total, 1.0)[use]
    holder = prepared.holder
    holders = np.bincount(holder, weights=row_cents, minlength=n_holders).astype(np.float64)
    train_rows: F64 | None = None
    undistributed = 0.0
    if training_fraction > 0:
        train_rows, undistributed = _training(
            uses, rights, revenue * training_fraction, training, training_songs
        )
        holders += np.bincount(rights.row_holder, weights=train_rows, minlength=n_holders)
    if not keep_rows:
        return Outcome(holders, pool, undistributed, training_right_cents=train_rows)
    return Outcome(
        holders,
        pool,
        undistributed,
        row_entry=entry,
        row_holder=holder,
        row_right=row,
        row_share=reshaped[entry],
        row_cents=row_cents,
        training_right_cents=train_rows,
    )


def _training(
    uses: Uses, rights: Rights, money: F64, mode: str, training_songs: I64 | None
) -> tuple[F64, float]:
    """Training money per rights row, and what no holder could take (no training catalogue,
    or training songs without holders)."""
    n_songs = rights.song_ptr.size - 1
    per_song = np.zeros(n_songs)
    flat_money = money.copy()
    if mode == "estimate" and uses.est_use.size:
        est_total = _per_use(uses.est_use, uses.est_weight, uses.n_uses)
        has = est_total > 0
        w = uses.est_weight / np.where(est_total > 0, est_total, 1.0)[uses.est_use]
        per_song += np.bincount(
            uses.est_song, weights=money[uses.est_use] * w * has[uses.est_use], minlength=n_songs
        )
        flat_money = np.where(has, 0.0, money)
    flat_total = float(flat_money.sum())
    if flat_total > 0:
        if training_songs is None or training_songs.size == 0:
            if not per_song.any():
                return np.zeros(rights.row_holder.size), float(money.sum())
            # Nothing to pay flat-rate to: the flat part follows the estimates.
            per_song *= (per_song.sum() + flat_total) / per_song.sum()
        else:
            per_song += np.bincount(
                training_songs, minlength=n_songs
            ) * (flat_total / training_songs.size)  # fmt: skip
    rows_of_song = np.repeat(np.arange(n_songs), np.diff(rights.song_ptr))
    split_total = np.bincount(rows_of_song, weights=rights.row_split, minlength=n_songs)
    lost = float(per_song[split_total <= 0].sum())
    rows = per_song[rows_of_song] * rights.row_split / np.where(
        split_total > 0, split_total, 1.0
    )[rows_of_song]  # fmt: skip
    return rows, lost
