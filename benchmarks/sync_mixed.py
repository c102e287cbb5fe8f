"""The mixed load with statement reads (issue 12), for benchmarks/sync.py.

A server (``musicapp-server serve``, 1 or N processes, SQLite or PostgreSQL) gets a log of
``generations`` generation events, each citing its verification (so twice as many events), made
by 8 devices over a year of event times, crediting 200 songs of 100 rights holders with prices.
Then ``clients`` threads, each with one keep-alive connection (http.client: a lean generator,
so the CPU of a small machine goes to the server), send for a fixed time:

    20% GET /v1/statements (a random holder, a random month, first page of 100 lines)
    30% GET /v1/feed (each client keeps its cursor)   30% GET /v1/log/sth
    10% POST /v1/consent (a new price)                10% POST /v1/ledger/events (10 events)

Paced (open loop): each client sends at ``rate / clients`` requests per second on a fixed
schedule, and a request's latency counts from when it was due, not from when it went out, so a
server that falls behind shows its queue in the latencies instead of slowing the clients down
(coordinated omission). ``rate`` 0 runs closed loop: as fast as the answers come.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from musicapp.ledger.canonical import GENESIS_HASH, event_hash_from_json
from musicapp.testing.server_fixtures import reset_postgres
from musicapp.testing.server_process import ServerProcess
from musicapp.transparency import signing

PG_ENV = "MUSICAPP_TEST_POSTGRES_URL"
SONGS, HOLDERS, DEVICES = 200, 100, 8
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
MIX = (("statement", 0.2), ("feed", 0.3), ("sth", 0.3), ("consent", 0.1), ("append", 0.1))
APPEND_BATCH = 10


def _song(i: int) -> dict[str, Any]:
    holders = [(i * 7 + k * 13) % HOLDERS for k in range(1 + i % 3)]
    splits = [round(1 / len(holders), 6) for _ in holders]
    splits[0] = round(1 - sum(splits[1:]), 6)
    return {
        "id": f"song-{i:03d}",
        "title": f"Song {i}",
        "artist": f"Artist {i % 37}",
        "rights_holders": [
            {"id": f"h-{h:03d}", "name": f"Holder {h}", "kind": "artist", "split": s}
            for h, s in zip(holders, splits, strict=True)
        ],
    }


class Chain:
    """One device's signed event stream, built ahead of time (no local ledger needed)."""

    def __init__(self, key: signing.Ed25519PrivateKey) -> None:
        self.sign = signing.Signer(key)
        self.public = signing.public_key_b64(key)
        self.seq, self.prev = 0, GENESIS_HASH
        self.rng = random.Random(self.public)

    def event(self, kind: str, payload: dict[str, Any], when: datetime) -> dict[str, Any]:
        self.seq += 1
        event_id = f"{self.public[:8]}-{self.seq}"
        ts = when.isoformat(timespec="microseconds")
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = event_hash_from_json(self.seq, event_id, kind, ts, text, self.prev)
        event = {
            "seq": self.seq,
            "event_id": event_id,
            "kind": kind,
            "payload": payload,
            "created_at": ts,
            "prev_hash": self.prev,
            "hash": digest,
            "signature": self.sign(bytes.fromhex(digest)),
        }
        self.prev = digest
        return event

    def take(self, when: datetime) -> list[dict[str, Any]]:
        """A verification and the generation that cites it, as the studio logs them."""
        songs = self.rng.sample(range(SONGS), 1 + self.rng.randrange(3))
        use = self.rng.choice(("private", "non_commercial", "commercial"))
        raw = [self.rng.random() + 0.1 for _ in songs]
        shares = [round(x / sum(raw), 9) for x in raw]
        shares[0] = round(1 - sum(shares[1:]), 9)
        refs = [{"song_id": f"song-{s:03d}", "level": "song", "weight": 1.0} for s in songs]
        check = {
            "use": use,
            "allowed": True,
            "decisions": [
                {"reference": r, "allowed": True, "consent_versions": {}, "reasons": []}
                for r in refs
            ],
            "consent_cache": {
                "local_only": False,
                "server_url": "https://rights.example",
                "ttl_s": 86400.0,
                "last_pull_at": (when - timedelta(minutes=5)).isoformat(),
                "cache_age_s": 300.0,
            },
        }
        first = self.event("verification", check, when)
        generation = {
            "request": {"use": use, "references": refs},
            "verification_event_id": first["event_id"],
            "provenance": {
                "engine": "concat",
                "shares": [
                    {"reference": i, "song_id": r["song_id"], "share": x}
                    for i, (r, x) in enumerate(zip(refs, shares, strict=True))
                ],
            },
        }
        return [first, self.event("generation", generation, when)]


@dataclass
class Mixed:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)

    def all_ms(self) -> list[float]:
        return sorted(x for v in self.latencies.values() for x in v)

    @staticmethod
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _post(conn: http.client.HTTPConnection, path: str, body: Any, token: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status not in (200, 201):
        raise RuntimeError(f"POST {path}: {resp.status} {data[:300]!r}")
    return json.loads(data)


def build_log(server: ServerProcess, generations: int) -> tuple[str, float]:
    """Songs, consent with prices, and the devices' events; returns (admin token, seconds)."""
    admin = json.loads(server.cli("account", "create", "--role", "admin", "--name", "b").stdout)
    token = admin["token"]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    for i in range(SONGS):
        song = _song(i)
        _post(conn, "/v1/songs", {"song": song}, token)
        for h in song["rights_holders"]:
            consent = {
                "song_id": song["id"],
                "holder_id": h["id"],
                "permissions": ["song_inference", "parameter_inference"],
                "uses": ["private", "non_commercial", "commercial"],
                "prices": {"private": 0.0, "non_commercial": 0.002, "commercial": 0.05},
            }
            _post(conn, "/v1/consent", consent, token)
    start = time.perf_counter()
    step = timedelta(days=365) / max(1, generations)
    per_device = generations // DEVICES
    for d in range(DEVICES):
        chain = Chain(signing.generate_key())
        reg = _post(conn, "/v1/devices", {"name": f"bench {d}", "public_key": chain.public}, None)
        batch: list[dict[str, Any]] = []
        for i in range(per_device):
            batch += chain.take(YEAR_START + step * (i * DEVICES + d))
            if len(batch) >= 1000 or i == per_device - 1:
                _post(conn, "/v1/ledger/events", {"events": batch}, reg["token"])
                batch = []
    conn.close()
    return token, time.perf_counter() - start


def run_load(server: ServerProcess, admin: str, seconds: float, clients: int, rate: float) -> Mixed:
    """``clients`` threads for ``seconds``; ``rate`` requests/s in all (0: closed loop)."""
    out = Mixed(latencies={k: [] for k, _ in MIX})
    lock = threading.Lock()
    begin = [0.0]
    # The schedule starts once every client has prepared its batches (the barrier's action
    # runs before any party is released), so no client starts with a backlog.
    gate = threading.Barrier(
        clients + 1, action=lambda: begin.__setitem__(0, time.perf_counter() + 0.5)
    )
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        chain = Chain(signing.generate_key())
        reg = _post(conn, "/v1/devices", {"name": f"load {n}", "public_key": chain.public}, None)
        budget = int(seconds * max(rate / clients, 20.0) * 0.1 * 3) + 5
        batches = [
            [e for _ in range(APPEND_BATCH // 2) for e in chain.take(datetime.now(UTC))]
            for _ in range(budget)
        ]
        cursor, mine, problems = 0, {k: [] for k in kinds}, []
        interval = clients / rate if rate else 0.0
        # A fresh connection: preparing the batches can outlast the server's keep-alive (5 s),
        # and a request on a connection the server closed meanwhile fails for the client's
        # reason, not the server's.
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        gate.wait()
        time.sleep(max(0.0, begin[0] - time.perf_counter()))
        due = begin[0] + rng.random() * interval
        while True:
            if rate:
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            start = due if rate else time.perf_counter()
            if start >= begin[0] + seconds:
                break
            kind = rng.choices(kinds, weights)[0]
            try:
                if kind == "statement":
                    month = YEAR_START + timedelta(days=30 * rng.randrange(12))
                    query = (
                        f"holder_id=h-{rng.randrange(HOLDERS):03d}&limit=100"
                        f"&from={month.isoformat().replace('+', '%2B')}"
                        f"&to={(month + timedelta(days=30)).isoformat().replace('+', '%2B')}"
                    )
                    conn.request(
                        "GET",
                        f"/v1/statements?{query}",
                        headers={"Authorization": f"Bearer {admin}"},
                    )
                elif kind == "feed":
                    conn.request(
                        "GET",
                        f"/v1/feed?since={cursor}&limit=100",
                        headers={"Authorization": f"Bearer {admin}"},
                    )
                elif kind == "sth":
                    conn.request("GET", "/v1/log/sth", headers={"Authorization": f"Bearer {admin}"})
                elif kind == "consent":
                    song = _song(rng.randrange(SONGS))
                    body = {
                        "song_id": song["id"],
                        "holder_id": song["rights_holders"][0]["id"],
                        "permissions": ["song_inference"],
                        "uses": ["private", "non_commercial", "commercial"],
                        "prices": {"commercial": round(rng.uniform(0.01, 0.1), 4)},
                    }
                    conn.request(
                        "POST",
                        "/v1/consent",
                        body=json.dumps(body).encode(),
                        headers={
                            "Authorization": f"Bearer {admin}",
                            "Content-Type": "application/json",
                        },
                    )
                else:
                    events = batches.pop(0) if batches else []
                    conn.request(
                        "POST",
                        "/v1/ledger/events",
                        body=json.dumps({"events": events}).encode(),
                        headers={
                            "Authorization": f"Bearer {reg['token']}",
                            "Content-Type": "application/json",
                        },
                    )
                resp = conn.getresponse()
                data = resp.read()
                if resp.status not in (200, 201):
                    problems.append(f"{kind}: {resp.status} {data[:120]!r}")
                elif kind == "feed":
                    cursor = int(json.loads(data)["next"])
            except (OSError, http.client.HTTPException, ValueError) as exc:
                problems.append(f"{kind}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            mine[kind].append((time.perf_counter() - start) * 1000)
            due += interval
        conn.close()
        with lock:
            out.errors += problems
            for k, v in mine.items():
                out.latencies[k] += v

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    for t in threads:
        t.join()
    # Until the last answer: a server that fell behind took longer than the schedule.
    out.seconds = time.perf_counter() - begin[0]
    out.requests = sum(len(v) for v in out.latencies.values())
    return out


def rows(
    folder: Path, args: argparse.Namespace, row: Callable[..., None], settle: Callable[[], None]
) -> None:
    """The issue 12 rows: the mixed load with statements, SQLite, then PostgreSQL x1 and x4."""
    setups: list[tuple[str, str | None, int]] = [("SQLite, 1 process", None, 1)]
    if args.postgres_url:
        setups += [("PostgreSQL, 1 process", args.postgres_url, 1)]
        setups += [("PostgreSQL, 4 processes", args.postgres_url, 4)]
    else:
        print("(no --postgres-url: the PostgreSQL rows are left out)")
    built: set[str | None] = set()
    for name, url, workers in setups:
        data = folder / f"mixed-{'pg' if url else 'sqlite'}"
        if url and url not in built:
            reset_postgres(url)
        server = ServerProcess(data, database_url=url, write_limit=1_000_000, workers=workers)
        with server:
            if url not in built:
                settle()
                admin, build_s = build_log(server, args.mixed_log)
                built.add(url)
                (data / "admin").write_text(admin)
                row(
                    f"mixed log: {name.split(',')[0]}",
                    f"{build_s:.1f} s",
                    "",
                    None,
                    f"{args.mixed_log:,} generations + their verifications uploaded, lines made",
                )
            admin = (data / "admin").read_text()
            mixed = run_load(server, admin, args.mixed_s, args.mixed_clients, args.mixed_rate)
        done = mixed.requests / mixed.seconds
        every = mixed.all_ms()
        p50, p99 = Mixed.pct(every, 0.5), Mixed.pct(every, 0.99)
        reads = mixed.latencies["statement"]
        how = f"{args.mixed_rate:g} req/s offered" if args.mixed_rate else "closed loop"
        ok = done >= 300 and p99 <= 250 and not mixed.errors
        row(
            f"mixed+statements: {name}",
            f"{done:,.0f} req/s",
            ">= 300, p99<=250",
            ok,
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, {len(mixed.errors)} errors; statements p50 "
            f"{Mixed.pct(reads, 0.5):.0f} / p99 {Mixed.pct(reads, 0.99):.0f}"
            f" ms; {args.mixed_clients} clients, {how}",
        )
        if mixed.errors:
            print(f"  first errors: {mixed.errors[:3]}")
