"""Durable ledger appends per second: one at a time, in batches, and from threads (group commit).

Run: .venv/bin/python benchmarks/ledger_appends.py [--single N] [--batched N] [--batch-size B]
     [--threads T] [--dir FOLDER]
Goal (issue 3): >= 5,000 durable appends/s. Every event counted is committed to disk (WAL,
synchronous=FULL) when the call that recorded it returns; the rows differ only in how many events
share a commit (one fsync):

- single: ``Ledger.append`` from one thread, one commit per event (bounded by the disk's fsync).
- batched: ``Ledger.append_many`` with B events per call, one transaction and one anchor write
  per batch, all or nothing.
- threads: ``Ledger.append`` from T threads at once; appends queued behind a running commit go
  together in the next one (group commit), each caller returning once its own event is durable.

Use --dir to measure on the disk the app really uses (the default is the system temp folder).
``benchmarks/sync.py`` prints these rows via ``lines()``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from musicapp.ledger import Ledger

# Shaped like a generation event: three references, shares, royalties, a hash (also used by
# benchmarks/ledger.py and benchmarks/sync.py).
PAYLOAD = {
    "request": {
        "references": [
            {"song_id": f"song-{i}", "level": "parameter", "role": "melody", "weight": 0.5}
            for i in range(3)
        ],
        "use": "private",
        "duration_s": 20.0,
    },
    "provenance": {
        "engine": "concat",
        "shares": [
            {"reference": i, "song_id": f"song-{i}", "share": 0.333333333} for i in range(3)
        ],
    },
    "royalties": {"holder-1": 0.5, "holder-2": 0.5},
    "audio_sha256": "ab" * 32,
}


def single_rate(path: Path, n: int, runs: int = 3) -> float:
    """The median rate of ``runs`` runs of ``n`` appends (one ledger, growing): a disk's fsync
    time varies from moment to moment, and one run of a few seconds can catch a slow patch."""
    rates = []
    with Ledger(path) as ledger:
        for run in range(runs):
            start = time.perf_counter()
            for _ in range(n):
                ledger.append("generation", PAYLOAD)
            rates.append(n / (time.perf_counter() - start))
            assert ledger.count() == n * (run + 1)
        assert ledger.verify().ok
    return statistics.median(rates)


def batched_rate(path: Path, n: int, batch_size: int) -> float:
    with Ledger(path) as ledger:
        start = time.perf_counter()
        done = 0
        while done < n:
            size = min(batch_size, n - done)
            ledger.append_many([("generation", PAYLOAD)] * size)
            done += size
        rate = n / (time.perf_counter() - start)
        assert ledger.count() == n and ledger.verify().ok
    return rate


def threaded_rate(path: Path, n: int, threads: int) -> tuple[float, float]:
    """(events/s, mean events per commit) for ``n`` appends spread over ``threads`` threads."""
    with Ledger(path) as ledger:
        commits = 0
        real_write = ledger._write

        def counting_write(items, check_anchor):  # type: ignore[no-untyped-def]
            nonlocal commits
            commits += 1
            return real_write(items, check_anchor)

        ledger._write = counting_write  # type: ignore[method-assign]
        per_thread = n // threads
        gate = threading.Barrier(threads + 1)

        def work() -> None:
            gate.wait()
            for _ in range(per_thread):
                ledger.append("generation", PAYLOAD)

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        gate.wait()
        start = time.perf_counter()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - start
        total = per_thread * threads
        assert ledger.count() == total and ledger.verify().ok
    return total / elapsed, total / max(commits, 1)


def lines(
    single: int = 5_000,
    batched: int = 50_000,
    batch_size: int = 100,
    threads: int = 8,
    folder: Path | None = None,
) -> list[str]:
    """The benchmark's rows, measured on fresh ledgers in a temporary folder under ``folder``."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp_path = Path(tmp)
        one = single_rate(tmp_path / "single.sqlite", single)
        many = batched_rate(tmp_path / "batched.sqlite", batched, batch_size)
        shared, per_commit = threaded_rate(tmp_path / "threads.sqlite", single, threads)
    return [
        f"local durable appends, single      {one:10,.0f} /s   goal >= 5,000/s"
        f"  (append, one commit each, median of 3 runs of {single:,})",
        f"local durable appends, batched     {many:10,.0f} /s   goal >= 5,000/s"
        f"  (append_many, {batch_size} events per commit, {batched:,} events)",
        f"local durable appends, {threads} threads   {shared:10,.0f} /s   goal >= 5,000/s"
        f"  (append, group commit: {per_commit:.1f} events per commit, {single:,} events)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--batched", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    for line in lines(args.single, args.batched, args.batch_size, args.threads, args.dir):
        print(line)


if __name__ == "__main__":
    main()
