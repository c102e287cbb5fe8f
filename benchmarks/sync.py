"""Times sync, locally and against the real rights server on loopback; prints one table.

Run: .venv/bin/python benchmarks/sync.py [--appends N] [--chain N] [--push N] [--upload N]
                                         [--load-s S] [--load-threads T] [--dir FOLDER]
                                         [--mixed-log N] [--mixed-s S] [--mixed-clients C]
                                         [--mixed-rate R] [--postgres-url URL] [--only-mixed]
Goals (issue 3): >= 5,000 durable appends/s; verify a 1,000,000-event chain in <= 10 s;
upload 100,000 events to the local server in <= 30 s; a bounded loopback load test of mixed
reads and writes at >= 300 req/s with p99 <= 100 ms and no errors. Issue 12: the mixed load with
20% statement reads over a log of 100,000 generations (benchmarks/sync_mixed.py), 64 clients,
>= 300 req/s with p99 <= 250 ms and no errors, on SQLite (one process) and on PostgreSQL with 1
and 4 server processes (--postgres-url, or $MUSICAPP_TEST_POSTGRES_URL: a throwaway database,
its tables are dropped). The first and last rows time the same fixed work (a Python loop, an
fsync): on a shared machine the figures move with them.

A single durable append costs one fsync (SQLite WAL, synchronous=FULL), so its rate is bounded
by the disk's fsync latency: the row's note gives that ceiling (1 / median fsync). Where the
ceiling is under 5,000/s no code reaches the goal one commit per event; group commit (threads
sharing commits, or append_many) is what reaches it, and the rows below it show by how much.

The push row runs the real SyncEngine against the in-process fake server (httpx.MockTransport):
the client's own cost only. The upload row runs the same engine against ``musicapp-server serve``
(uvicorn, SQLite, in a subprocess, write limits raised) over loopback HTTP: signing, the
server's checks, the Merkle log, receipts and the client's proof checks, end to end. The load
test then hits that server with T client threads for S seconds: 40% GET /v1/feed (each thread
keeps its cursor, like a syncing client), 40% GET /v1/log/sth, 20% POST /v1/consent by a holder.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger_appends  # noqa: E402  (benchmarks/ledger_appends.py)
import sync_mixed  # noqa: E402  (benchmarks/sync_mixed.py)
from ledger_appends import PAYLOAD  # noqa: E402

from musicapp.config import Settings
from musicapp.ledger import Ledger
from musicapp.ledger.anchor import Anchor, anchor_path, write_anchor
from musicapp.ledger.canonical import GENESIS_HASH, canonical_json, event_hash_from_json
from musicapp.ledger.schema import COLUMNS
from musicapp.testing.server_process import ServerProcess


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
    for leftover in folder.glob("chain.sqlite*"):
        leftover.unlink()  # a gigabyte of dirty pages would slow every fsync of the next rows
    return build_s, verify_s


def machine_check(folder: Path) -> tuple[float, float]:
    """(ms for a fixed pure-Python loop, median µs for a 4 KiB write + fdatasync): the same
    work at the start and the end of the run, so a reader can tell a machine that slowed down
    (a shared host, another job) from a change in the app."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i * i
    cpu_ms = (time.perf_counter() - start) * 1000
    probe = folder / "fsync-probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(200):
            t0 = time.perf_counter()
            os.write(fd, b"x" * 4096)
            os.fdatasync(fd)
            times.append((time.perf_counter() - t0) * 1e6)
    finally:
        os.close(fd)
        probe.unlink()
    return cpu_ms, sorted(times)[len(times) // 2]


def settle() -> None:
    """Flush what earlier rows wrote, so its writeback does not slow the next row's fsyncs."""
    os.sync()


def bench_push(folder: Path, n: int) -> float:
    from musicapp.catalog.store import CatalogStore
    from musicapp.sync.engine import SyncEngine
    from musicapp.testing.fake_server import FakeServer

    data = folder / "push"
    settings = Settings(data_dir=data, models_dir=folder / "models", device="cpu")
    settings.server_url = "https://rights.test"  # in-process: the scheme only passes the URL rule
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


def bench_upload(folder: Path, server: ServerProcess, n: int) -> float:
    """Seconds for SyncEngine.sync_once to upload n events to the real server (receipts checked)."""
    from musicapp.catalog.store import CatalogStore
    from musicapp.sync.engine import SyncEngine

    data = folder / "upload"
    settings = Settings(data_dir=data, models_dir=folder / "models", device="cpu")
    settings.server_url = server.url
    settings.ensure_dirs()
    build_chain(settings.ledger_path, n)
    with CatalogStore(settings.catalog_path, settings.audio_dir) as catalog:
        with Ledger(settings.ledger_path) as ledger:
            engine = SyncEngine(settings, catalog, ledger, timeout_s=120.0)
            start = time.perf_counter()
            result = engine.sync_once()
            upload_s = time.perf_counter() - start
            assert result.pushed == n and result.pending == 0, result
            head = engine.state.tree_head
            sth = httpx.get(
                f"{server.url}/v1/log/sth",
                headers={"Authorization": f"Bearer {engine.state.get('token')}"},
            ).json()
            assert head is not None and (head.tree_size, head.root) == (
                sth["tree_size"],
                sth["root"],
            )
            engine.state.close()
    return upload_s


BENCH_SONG = {
    "id": "bench-song",
    "title": "Bench",
    "artist": "Ann",
    "rights_holders": [{"id": "h-bench", "name": "Ann", "kind": "artist", "split": 1.0}],
}


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    by_kind: dict[str, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _cli(server: ServerProcess, *args: str) -> str:
    done = server.cli(*args)
    if done.returncode != 0:
        raise RuntimeError(f"musicapp-server {' '.join(args)}: {done.stderr}")
    return done.stdout


def bench_load(server: ServerProcess, seconds: float, threads: int) -> LoadResult:
    """T threads, each with its own keep-alive client, for a fixed time: 80% reads, 20% writes."""
    admin = json.loads(_cli(server, "account", "create", "--role", "admin", "--name", "bench"))
    holder = json.loads(
        _cli(
            server, "account", "create", "--role", "holder", "--holder-id", "h-bench", "--name", "b"
        )
    )
    with httpx.Client(base_url=server.url, timeout=10) as client:
        r = client.post(
            "/v1/songs",
            json={"song": BENCH_SONG},
            headers={"Authorization": f"Bearer {admin['token']}"},
        )
        assert r.status_code == 201, r.text
    auth = {"Authorization": f"Bearer {holder['token']}"}
    consent = {
        "song_id": BENCH_SONG["id"],
        "holder_id": "h-bench",
        "permissions": ["song_inference", "parameter_inference"],
        "uses": ["private", "non_commercial"],
        "prices": {"private": 0.0, "non_commercial": 0.01, "commercial": 0.1},
    }
    lock = threading.Lock()
    latencies: list[float] = []
    by_kind = {"feed": 0, "sth": 0, "consent": 0}
    errors: list[str] = []
    start_gate = threading.Barrier(threads + 1)
    end_at = [0.0]

    consent_body = json.dumps(consent).encode()
    headers = {**auth, "Content-Type": "application/json"}

    def worker(seed: int) -> None:
        # http.client over one keep-alive connection per thread: a lean load generator, so the
        # CPU of a small machine goes to the server rather than to the client.
        rng = random.Random(seed)
        cursor = 0
        mine: list[float] = []
        kinds = {"feed": 0, "sth": 0, "consent": 0}
        problems: list[str] = []
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/v1/log/sth", headers=headers)  # connect before the clock starts
        conn.getresponse().read()
        start_gate.wait()
        while time.perf_counter() < end_at[0]:
            roll = rng.random()
            t0 = time.perf_counter()
            if roll < 0.4:
                kind, method, path, body = "feed", "GET", f"/v1/feed?since={cursor}&limit=100", None
            elif roll < 0.8:
                kind, method, path, body = "sth", "GET", "/v1/log/sth", None
            else:
                kind, method, path, body = "consent", "POST", "/v1/consent", consent_body
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != (201 if kind == "consent" else 200):
                    problems.append(f"{kind}: {resp.status} {data[:100]!r}")
                elif kind == "feed":
                    cursor = int(json.loads(data)["next"])
            except (OSError, http.client.HTTPException, ValueError) as exc:
                problems.append(f"{kind}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            mine.append((time.perf_counter() - t0) * 1000)
            kinds[kind] += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(problems)
            for k, v in kinds.items():
                by_kind[k] += v

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    start = time.perf_counter()
    end_at[0] = start + seconds
    start_gate.wait()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        print(f"load test errors ({len(errors)}), first: {errors[:3]}")
    return LoadResult(len(latencies), len(errors), elapsed, latencies, by_kind)


def row(name: str, value: str, goal: str, ok: bool | None, note: str = "") -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISS")
    print(f"{name:<34} {value:>14}  {goal:<16} {verdict:<5} {note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=10_000)
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--push", type=int, default=10_000)
    parser.add_argument("--upload", type=int, default=100_000)
    parser.add_argument("--load-s", type=float, default=10.0)
    parser.add_argument("--load-threads", type=int, default=4)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--mixed-log", type=int, default=100_000, help="generations logged")
    parser.add_argument("--mixed-s", type=float, default=20.0)
    parser.add_argument("--mixed-clients", type=int, default=64)
    parser.add_argument("--mixed-rate", type=float, default=320.0, help="req/s offered; 0: closed")
    parser.add_argument("--postgres-url", default=os.environ.get(sync_mixed.PG_ENV))
    parser.add_argument("--only-mixed", action="store_true", help="only the issue 12 rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        print(f"{'measure':<34} {'value':>14}  {'goal':<16} {'':<5} note")
        cpu_ms, fsync_us = machine_check(folder)
        row(
            "machine check, start",
            f"{cpu_ms:.0f} ms",
            "",
            None,
            f"a fixed Python loop; fsync of 4 KiB: median {fsync_us:.0f} µs",
        )
        # Durable appends (benchmarks/ledger_appends.py): one commit per append, batches in one
        # commit (append_many), and threads whose appends share commits (group commit).
        if args.only_mixed:
            sync_mixed.rows(folder, args, row, settle)
            return
        settle()
        single = ledger_appends.single_rate(folder / "single.sqlite", args.appends)
        ceiling = 1e6 / fsync_us
        row(
            "local durable appends, single",
            f"{single:,.0f} /s",
            ">= 5,000 /s",
            single >= 5000,
            f"append, one fsync each, median of 3 runs of {args.appends:,}; the disk's "
            f"ceiling one fsync per event: {ceiling:,.0f} /s",
        )
        many = ledger_appends.batched_rate(folder / "batched.sqlite", args.appends * 5, 100)
        row(
            "local durable appends, batched",
            f"{many:,.0f} /s",
            ">= 5,000 /s",
            many >= 5000,
            f"append_many, 100 per commit, {args.appends * 5:,} events",
        )
        shared, per_commit = ledger_appends.threaded_rate(
            folder / "threads.sqlite", args.appends, 8
        )
        row(
            "local durable appends, 8 threads",
            f"{shared:,.0f} /s",
            ">= 5,000 /s",
            shared >= 5000,
            f"group commit, {per_commit:.1f} events per commit",
        )
        settle()
        build_s, verify_s = bench_verify(folder, args.chain)
        row(
            f"verify {args.chain:,}-event chain",
            f"{verify_s:.2f} s",
            "<= 10 s",
            verify_s <= 10 if args.chain >= 1_000_000 else None,
            f"bulk build took {build_s:.1f} s",
        )
        settle()
        push_s = bench_push(folder, args.push)
        row(
            f"push {args.push:,} to fake server",
            f"{push_s:.2f} s",
            "",
            None,
            f"{args.push / push_s:,.0f} events/s; in-process, client cost only",
        )
        with ServerProcess(folder / "server", write_limit=1_000_000) as server:
            settle()
            upload_s = bench_upload(folder, server, args.upload)
            row(
                f"upload {args.upload:,} to local server",
                f"{upload_s:.2f} s",
                "<= 30 s",
                upload_s <= 30 if args.upload >= 100_000 else None,
                f"{args.upload / upload_s:,.0f} events/s; uvicorn + SQLite, receipts checked",
            )
            load = bench_load(server, args.load_s, args.load_threads)
        mix = ", ".join(f"{k} {v}" for k, v in load.by_kind.items())
        row(
            "load test: throughput",
            f"{load.rate:,.0f} req/s",
            ">= 300 req/s",
            load.rate >= 300,
            f"{load.requests:,} requests in {load.seconds:.1f} s, "
            f"{args.load_threads} threads ({mix})",
        )
        p50, p99 = load.percentile(0.50), load.percentile(0.99)
        row("load test: latency p50", f"{p50:.1f} ms", "", None)
        row("load test: latency p99", f"{p99:.1f} ms", "<= 100 ms", p99 <= 100)
        row("load test: errors", f"{load.errors}", "0", load.errors == 0)
        sync_mixed.rows(folder, args, row, settle)
        cpu_ms, fsync_us = machine_check(folder)
        row(
            "machine check, end",
            f"{cpu_ms:.0f} ms",
            "",
            None,
            f"the same loop; fsync of 4 KiB: median {fsync_us:.0f} µs",
        )


if __name__ == "__main__":
    main()
