"""Times the local half of sync: durable appends, verifying a long chain, pushing to a fake server.

Run: .venv/bin/python benchmarks/sync.py [--appends N] [--chain N] [--push N] [--dir FOLDER]
Goals (issue 3): >= 5,000 durable appends/s; verify a 1,000,000-event chain in <= 10 s.
The push row runs the real SyncEngine against the in-process fake server (httpx.MockTransport):
it measures the client's own cost (signing, batching, proof checks, receipt storage), not the
network or the real server; the upload to the real server and the load test come later.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from musicapp.config import Settings
from musicapp.ledger import Ledger
from musicapp.ledger.anchor import Anchor, anchor_path, write_anchor
from musicapp.ledger.canonical import GENESIS_HASH, canonical_json, event_hash_from_json
from musicapp.ledger.schema import COLUMNS

# Shaped like a generation event (the same as benchmarks/ledger.py).
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


def bench_appends(folder: Path, n: int) -> float:
    with Ledger(folder / "appends.sqlite") as ledger:
        start = time.perf_counter()
        for _ in range(n):
            ledger.append("generation", PAYLOAD)
        return n / (time.perf_counter() - start)


def build_chain(path: Path, n: int) -> None:
    """A valid n-event ledger written in bulk: the same hashes append() would compute."""
    Ledger(path).close()  # the schema and guards
    payload = canonical_json(PAYLOAD)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    prev, rows = GENESIS_HASH, []
    for seq in range(1, n + 1):
        ts = f"2026-01-01T00:00:00.{seq % 1_000_000:06d}+00:00"
        digest = event_hash_from_json(seq, f"ev-{seq:08d}", "generation", ts, payload, prev)
        rows.append((seq, f"ev-{seq:08d}", "generation", ts, payload, prev, digest))
        prev = digest
        if len(rows) == 50_000:
            db.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?)", rows)
            rows = []
    db.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?)", rows)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    write_anchor(anchor_path(path), Anchor(n, prev), sync=True)


def bench_verify(folder: Path, n: int) -> tuple[float, float]:
    path = folder / "chain.sqlite"
    start = time.perf_counter()
    build_chain(path, n)
    build_s = time.perf_counter() - start
    with Ledger(path) as ledger:
        start = time.perf_counter()
        report = ledger.verify()
        verify_s = time.perf_counter() - start
    assert report.ok and report.checked == n, report.problems[:3]
    return build_s, verify_s


def bench_push(folder: Path, n: int) -> float:
    from musicapp.catalog.store import CatalogStore
    from musicapp.sync.engine import SyncEngine
    from musicapp.sync.fake_server import FakeServer

    data = folder / "push"
    settings = Settings(data_dir=data, models_dir=folder / "models", device="cpu")
    settings.server_url = "http://rights.test"
    settings.ensure_dirs()
    server = FakeServer()
    with CatalogStore(settings.catalog_path, settings.audio_dir) as catalog:
        with Ledger(settings.ledger_path) as ledger:
            for _ in range(n):
                ledger.append("generation", PAYLOAD)
            engine = SyncEngine(settings, catalog, ledger, server.transport())
            start = time.perf_counter()
            result = engine.sync_once()
            push_s = time.perf_counter() - start
            assert result.pushed == n and result.pending == 0
            engine.state.close()
    return push_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--push", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        rate = bench_appends(folder, args.appends)
        print(
            f"local durable appends   {rate:10.0f} /s        goal >= 5,000/s  ({args.appends} events)"
        )
        build_s, verify_s = bench_verify(folder, args.chain)
        print(
            f"verify {args.chain:>9,} chain  {verify_s:10.2f} s        goal <= 10 s"
            f"  (bulk build took {build_s:.1f} s)"
        )
        push_s = bench_push(folder, args.push)
        print(
            f"push {args.push:,} to fake server {push_s:6.2f} s  ({args.push / push_s:.0f} events/s;"
            f" in-process, client cost only; real-server upload: later)"
        )


if __name__ == "__main__":
    main()
