"""How much of the catalogue's fingerprint evidence the common-hash cut throws away (issue 15),
and whether keeping more of it would let the search nominate the songs it misses.

    PYTHONPATH=. .venv/bin/python benchmarks/audit_common.py --work /work/cache/audit-bench

``--work`` is a folder the harness built (``benchmarks/audit.py``), with its audit index. The
index keeps every item's hashes as made, so the cut (a hash in more than
``landmarks.COMMON_SONGS`` songs, or ``COMMON_FRACTION`` of them, names none) can be redone
here at other thresholds without rebuilding anything. Prints:

1. **commonness**: the share of the index's distinct keys, and of its entries, found in more
   than n songs;
2. for every ``--every``-th take and hidden clip, at each threshold of ``--cuts``: the search's
   cost (p50, p95 seconds), and the share of the true songs (a take's songs with a share of at
   least 10 %, a clip's hidden song) that some cluster of the search names with at least
   ``landmarks.MIN_VOTES`` moments (**any**), or among its first ten (**top 10**). Every
   cluster is verified by the audit, so "any" is the ceiling of what it can find. Rows by take
   level, and for parameter-level takes by the role each reference lent;
3. with ``--min-dt F``: the same with the hashes remade from the kept peaks, each triplet's
   targets at least F frames after its anchor (chord tones struck together excluded);
4. with ``--powers``: at the first cut, how many true songs the search would hand to the
   verification if its cells (at least ``landmarks.MIN_VOTES`` moments) went in the order of
   votes over their item's entries to each power (0: votes alone), within the first n of
   ``--limits`` (the search verifies 400). Cells, not clusters: a cell and its next offset bin
   are one cluster, so the counts run a little ahead of the search's own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_score  # noqa: E402
import audit_takes  # noqa: E402

from musicapp.attribution import landmarks as lm  # noqa: E402
from musicapp.attribution.index_store import AuditStore  # noqa: E402


def inputs(
    work: Path, every: int, song_no: dict[str, int]
) -> list[tuple[list[str], lm.Peaks, dict[int, str]]]:
    """(row names, peaks, {true song: its role}) of the sampled takes and hidden clips."""
    out = []
    for path in sorted((work / "takes").glob("[0-9]*.json"))[1::every]:
        take = audit_takes.TakeRecord.load(path)
        audio, sr = audit_score.read(take.path)
        roles = {r["song_id"]: r.get("role") or take.level for r in take.references}
        want = {
            song_no[s]: roles.get(s, take.level) for s, v in take.song_shares.items() if v >= 0.1
        }
        out.append((["takes", f"takes: {take.level}"], lm.peaks(audio, sr), want))
    for path in sorted((work / "clips").glob("hidden-*.json"))[:: 2 * every]:
        truth = json.loads(path.read_text())
        audio, sr = audit_score.read(path.with_suffix(".flac"))
        out.append((["hidden clips"], lm.peaks(audio, sr), {song_no[truth["song_id"]]: "clip"}))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--every", type=int, default=16, help="every k-th take, every 2k-th clip")
    ap.add_argument("--cuts", default="3.04,10,30", help="a hash in more songs than this is cut")
    ap.add_argument("--min-dt", type=int, default=0, help="remake the hashes: targets this late")
    ap.add_argument("--powers", default="", help="e.g. 0,0.5,1: nomination orders to compare")
    ap.add_argument("--limits", default="400,1000,3000", help="with --powers: cells verified")
    ap.add_argument("--min-votes", type=int, default=lm.MIN_VOTES, help="with --powers: a cell's")
    args = ap.parse_args(argv)

    index_path = args.work / "data" / "catalog-audit.sqlite"
    if not index_path.is_file():  # AuditStore would make an empty one
        raise SystemExit(f"{index_path}: no audit index there (run benchmarks/audit.py first)")
    store = AuditStore(index_path)
    items = list(store.items())
    store.close()
    song_ids = sorted({s for s, _, _ in items})
    song_no = {s: i for i, s in enumerate(song_ids)}
    item_song = np.array([song_no[s] for s, _, _ in items], np.int32)
    if args.min_dt:
        lm.TARGET_FRAMES = (args.min_dt, lm.TARGET_FRAMES[1])
        hashes = []
        for _, _, h in items:
            assert h.peaks is not None
            key, times, _, _ = lm.triplets(h.peaks)
            hashes.append(lm.Hashes(key, times))
    else:
        hashes = [h for _, _, h in items]
    keys = np.concatenate([h.keys for h in hashes]).astype(np.int64)
    entry_item = np.concatenate([np.full(len(h), i, np.int32) for i, h in enumerate(hashes)])
    times = np.concatenate([h.times for h in hashes]).astype(np.float32)
    pairs = np.unique(keys * (1 << 24) + item_song[entry_item])
    k, n = np.unique(pairs >> 24, return_counts=True)
    songs_of_entry = n[np.searchsorted(k, keys)]

    print(
        f"{len(song_ids)} songs, {len(items)} items, {keys.size:,} entries, {k.size:,} keys"
        f"{f', targets from frame {args.min_dt}' if args.min_dt else ''}\n"
    )
    print("| in more than | keys | entries |\n|---|---|---|")
    for m in (1, 2, 3, 5, 10, 30, 100):
        print(
            f"| {m} songs | {100 * np.mean(n > m):.1f} % | {100 * np.mean(songs_of_entry > m):.1f} % |"
        )

    sample = inputs(args.work, args.every, song_no)
    print(f"\n{len(sample)} inputs\n")
    if args.powers:
        keep = songs_of_entry <= float(args.cuts.split(",")[0])
        index = lm.FingerprintIndex(keys[keep], entry_item[keep], times[keep])
        nominations(index, sample, item_song, args.powers, args.limits, args.min_votes)
        return
    print(
        "| cut: more songs than | entries kept | rows | inputs | true songs | query p50 s | p95 s | top 10 | any |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for cut in (float(c) for c in args.cuts.split(",")):
        keep = songs_of_entry <= cut
        index = lm.FingerprintIndex(keys[keep], entry_item[keep], times[keep])
        rows: dict[str, list[tuple[float, int, int, int]]] = {}
        for names, peaks, want in sample:
            t0 = time.perf_counter()
            clusters = index.query(peaks)
            elapsed = time.perf_counter() - t0
            rank: dict[int, int] = {}
            for r, c in enumerate(clusters):
                rank.setdefault(int(item_song[c.item]), r)
            # A row per name; a parameter-level take adds each reference to its role's row.
            groups = {name: list(want) for name in names}
            if names[-1] == "takes: parameter":
                for song, role in want.items():
                    groups.setdefault(f"parameter: {role}", []).append(song)
            for name, songs in groups.items():
                rows.setdefault(name, []).append(
                    (
                        elapsed,
                        len(songs),
                        sum(rank.get(s, 99) < 10 for s in songs),
                        sum(s in rank for s in songs),
                    )
                )
        for name in sorted(rows):
            a = np.array(rows[name], float)
            wanted = max(1.0, a[:, 1].sum())
            print(
                f"| {cut:g} | {100 * keep.mean():.0f} % | {name} | {len(a)} | {a[:, 1].sum():.0f} | "
                f"{np.median(a[:, 0]):.2f} | {np.percentile(a[:, 0], 95):.2f} | "
                f"{100 * a[:, 2].sum() / wanted:.0f} % | {100 * a[:, 3].sum() / wanted:.0f} % |",
                flush=True,
            )


def nominations(
    index: lm.FingerprintIndex,
    sample: list[tuple[list[str], lm.Peaks, dict[int, str]]],
    item_song: np.ndarray,
    powers: str,
    limits: str,
    min_votes: int = lm.MIN_VOTES,
) -> None:
    """The share of true songs with a cell among the first n, by each order (item 4 above)."""
    ns = [int(n) for n in limits.split(",")]
    ps = [float(a) for a in powers.split(",")]
    rows: dict[tuple[str, float], list[list[int]]] = {}
    for names, peaks, want in sample:
        v = index.votes(peaks)
        ok = v.votes >= min_votes if v is not None else np.zeros(0, bool)
        for a in ps:
            best: dict[int, int] = {}
            if v is not None:
                order = np.flatnonzero(ok)[np.argsort(-index.rank(v, a)[ok], kind="stable")]
                for r, song in enumerate(item_song[v.items[order]].tolist()):
                    best.setdefault(song, r)
            counts = [len(want)] + [sum(best.get(s, ns[-1]) < n for s in want) for n in ns]
            rows.setdefault((names[-1], a), []).append(counts)
    head = " | ".join(f"first {n:,}" for n in ns)
    print(f"| inputs | power | true songs | {head} |\n|---|---|---|{'---|' * len(ns)}")
    for (name, a), got in sorted(rows.items()):
        t = np.array(got).sum(axis=0)
        shares = " | ".join(f"{100 * x / max(1, t[0]):.0f} %" for x in t[1:])
        print(f"| {name} | {a:g} | {t[0]} | {shares} |", flush=True)


if __name__ == "__main__":
    main()
