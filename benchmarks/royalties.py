"""Times a period's royalties at scale under every mechanism, and measures their inequality.

Run: .venv/bin/python benchmarks/royalties.py [--events 10000000] [--songs 1000000]
     [--holders 100000] [--plots docs/royalties]
Goal (issue 16): 10,000,000 generation events over 1,000,000 songs and 100,000 holders computed
under all mechanisms in <= 60 s and <= 4 GB on this machine (2 cores, 24 GB).

The baseline, in the same process: the object path (``period.compute``: events as UseEvent
objects, one statement's every line kept) on the first ``--baseline-events`` events of the same
usage, its per-event time scaled to the full period: what computing a period event by event
would cost. Peak memory is the process's maximum resident set (ru_maxrss) after each step.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from musicapp.royalties import period
from musicapp.royalties.simulate import USES, MechanismFigures, Usage, label, run, synthetic_usage


def peak_gb() -> float:
    """Peak resident memory in GB (10^9 bytes; ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def baseline(usage: Usage, n: int) -> float:
    """Seconds per event of the object path on the first n events of ``usage``."""
    u, r = usage.uses, usage.rights
    last = int(np.searchsorted(u.entry_use, n))
    events = []
    for i in range(n):
        lo, hi = np.searchsorted(u.entry_use[:last], [i, i + 1])
        contributions = tuple(
            period.Contribution(f"s{int(s)}", float(sh), period.LEVELS[int(t) % 4])
            for s, sh, t in zip(
                u.entry_song[lo:hi], u.entry_share[lo:hi], u.entry_tier[lo:hi], strict=True
            )  # fmt: skip
        )
        use = USES[int(u.entry_tier[lo]) // 4] if hi > lo else USES[0]
        events.append(period.UseEvent(f"e{i:09d}", use, contributions))
    songs = {c.song_id for e in events for c in e.contributions}
    rights = {}
    for s in songs:
        si = int(s[1:])
        rows = range(int(r.song_ptr[si]), int(r.song_ptr[si + 1]))
        rights[s] = [
            period.HolderTerms(
                f"h{int(r.row_holder[j])}",
                float(r.row_split[j]),
                {
                    f"{u}/{lv}": float(r.row_price[j, ui * 4 + li])
                    for ui, u in enumerate(USES)
                    for li, lv in enumerate(period.LEVELS)
                },
            )  # fmt: skip
            for j in rows
        ]
    t0 = time.perf_counter()
    period.compute(events, rights, period.Policy(pool_cents=10**8))
    return (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--songs", type=int, default=1_000_000)
    ap.add_argument("--holders", type=int, default=100_000)
    ap.add_argument("--baseline-events", type=int, default=20_000)
    ap.add_argument("--pool", type=int, default=1_000_000_000, help="pool in cents")
    ap.add_argument("--minimum", type=int, default=1000, help="minimum payout in cents")
    ap.add_argument("--plots", type=Path, default=None)
    args = ap.parse_args()

    t0 = time.perf_counter()
    usage = synthetic_usage(args.events, args.songs, args.holders)
    gen_s = time.perf_counter() - t0
    entries = usage.uses.entry_use.size
    print(f"usage: {args.events:,} events, {entries:,} entries, {args.songs:,} songs, "
          f"{args.holders:,} holders, {usage.rights.row_holder.size:,} rights rows; "
          f"made in {gen_s:.1f} s; peak {peak_gb():.2f} GB")  # fmt: skip
    t0 = time.perf_counter()
    figures = run(usage, pool_cents=args.pool, minimum_cents=args.minimum)
    all_s = time.perf_counter() - t0
    mem = peak_gb()
    for f in figures:
        assert int(f.payouts_cents.sum()) == args.pool, "payouts must sum to the pool"
    per_event = baseline(usage, args.baseline_events)
    base_s = per_event * args.events * len(figures)
    print()
    print("| mechanism | seconds | Gini | top 1 % | top 10 % | holders paid >= minimum |")
    print("|---|---|---|---|---|---|")
    for f in figures:
        print(f"| {_label(f)} | {f.seconds:.1f} | {f.gini:.3f} | {f.top1:.1%} | {f.top10:.1%} "
              f"| {f.paid_holders:,} |")  # fmt: skip
    print()
    print("| figure | value | goal |")
    print("|---|---|---|")
    print(f"| all {len(figures)} mechanisms, {args.events:,} events | {all_s:.1f} s | <= 60 s |")
    print(f"| peak memory (whole process) | {mem:.2f} GB | <= 4 GB |")
    print(f"| baseline: object path, {args.baseline_events:,} events | "
          f"{per_event * 1e6:.1f} us/event -> {base_s:,.0f} s for the period | |")  # fmt: skip
    print(f"| vectorised vs baseline | {base_s / all_s:,.0f}x faster | |")
    if args.plots:
        from musicapp.royalties.plots import save_plots

        print("plots:", ", ".join(str(p) for p in save_plots(figures, args.plots)))


def _label(f: MechanismFigures) -> str:
    return label(f)


if __name__ == "__main__":
    main()
