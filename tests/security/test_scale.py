"""Scale-out: server processes over one PostgreSQL database keep one log; SQLite stays one
process; a statement reads its holder's lines only, however big the log."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from musicapp.ledger import Ledger
from musicapp.ledger.canonical import canonical_bytes
from musicapp.testing.server_fixtures import PG_ENV, _postgres_url, reset_postgres
from musicapp.testing.server_helpers import SONG_A, Env, auth, generation_payload, signed
from musicapp.testing.server_process import ServerProcess
from musicapp.transparency import merkle, signing

ROUNDS, BATCH = 8, 25  # per device: 8 uploads of 25 events


def test_several_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "musicapp.server.cli", "--data-dir", str(tmp_path), "serve"]
    done = subprocess.run([*cmd, "--workers", "2"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "musicapp-server: --workers: 2 processes need PostgreSQL (--database-url); "
        "on SQLite the server runs as one process"
    )


def _check_receipt(receipt: dict[str, Any], key: signing.Ed25519PublicKey) -> None:
    head = {k: receipt[k] for k in ("tree_size", "root", "timestamp")}
    assert signing.verify(key, canonical_bytes(head), receipt["signature"])
    assert merkle.verify_inclusion(
        merkle.leaf_hash(bytes.fromhex(receipt["event_hash"])),
        receipt["leaf_index"],
        receipt["tree_size"],
        [bytes.fromhex(h) for h in receipt["inclusion"]],
        bytes.fromhex(receipt["root"]),
    )


@pytest.mark.skipif(PG_ENV not in __import__("os").environ, reason="needs PostgreSQL")
def test_two_server_processes_over_one_postgres_keep_one_log(tmp_path: Path) -> None:
    """A `serve --workers 2` and a second server with the same key, behind two ports, take
    uploads from four devices at once: every receipt verifies against the final tree head."""
    url = _postgres_url("scale")
    reset_postgres(url)
    first = ServerProcess(tmp_path / "a", database_url=url, write_limit=100_000, workers=2)
    second = ServerProcess(tmp_path / "b", database_url=url, write_limit=100_000)
    with first:
        (tmp_path / "b").mkdir()
        shutil.copy(tmp_path / "a" / "server_key.pem", tmp_path / "b" / "server_key.pem")
        with second:
            done = first.cli("account", "create", "--role", "admin", "--name", "root")
            admin = __import__("json").loads(done.stdout)["token"]
            r = httpx.post(f"{first.url}/v1/songs", json={"song": SONG_A}, headers=auth(admin))
            assert r.status_code == 201, r.text
            key = signing.public_key_from_b64(
                httpx.get(f"{second.url}/v1/server-key").json()["public_key"]
            )
            receipts, errors = _upload_concurrently(tmp_path, [first.url, second.url])
            assert errors == []
            sth = httpx.get(f"{second.url}/v1/log/sth", headers=auth(admin)).json()
            assert sth == httpx.get(f"{first.url}/v1/log/sth", headers=auth(admin)).json()
            total = 4 * ROUNDS * BATCH
            assert sth["tree_size"] == total
            assert sorted(r["leaf_index"] for r in receipts) == list(range(total))
            final = bytes.fromhex(sth["root"])
            proofs: dict[int, list[bytes]] = {}
            for receipt in receipts:
                _check_receipt(receipt, key)
                size = receipt["tree_size"]
                if size not in proofs:
                    got = httpx.get(
                        f"{first.url}/v1/log/consistency",
                        params={"first": size, "second": total},
                        headers=auth(admin),
                    ).json()
                    proofs[size] = [bytes.fromhex(h) for h in got["proof"]]
                assert merkle.verify_consistency(
                    size, total, bytes.fromhex(receipt["root"]), final, proofs[size]
                )
            # Statement lines were written by both processes: one statement, the same on both.
            period = {
                "holder_id": "h-ann",
                "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                "to": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "limit": 5000,
            }
            served = [
                httpx.get(f"{u}/v1/statements", params=period, headers=auth(admin)).json()
                for u in (first.url, second.url)
            ]
            assert served[0] == served[1] and served[0]["line_count"] == total


def _upload_concurrently(tmp: Path, urls: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    receipts: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(4)

    def device(n: int) -> None:
        url = urls[n % 2]
        key = signing.generate_key()
        with httpx.Client(base_url=url, timeout=60) as client:
            body = {"name": f"device {n}", "public_key": signing.public_key_b64(key)}
            reg = client.post("/v1/devices", json=body).json()
            ledger = Ledger(tmp / f"device{n}" / "ledger.sqlite")
            gate.wait()
            for _ in range(ROUNDS):
                for _ in range(BATCH):
                    ledger.append("generation", generation_payload("private", [("song-a", 1.0)]))
                events = [signed(e, key) for e in ledger.events(since_seq=ledger.count() - BATCH)]
                r = client.post(
                    "/v1/ledger/events", json={"events": events}, headers=auth(reg["token"])
                )
                with lock:
                    if r.status_code != 200:
                        errors.append(f"device {n}: {r.status_code} {r.text[:200]}")
                        return
                    receipts.extend(r.json()["receipts"])
            ledger.close()

    threads = [threading.Thread(target=device, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return receipts, errors


def test_a_statement_reads_its_holders_lines_by_index(env: Env) -> None:
    """The query plan: a range of the lines' key for one holder and period, never a scan of
    the events (what made statements cost 0.12 s per 1,000 events in the period)."""
    if env.server.engine.dialect.name != "sqlite":
        pytest.skip("the planner's choice on a near-empty PostgreSQL table says nothing")
    with env.server.engine.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT * FROM statement_lines WHERE holder_id = 'h' "
                    "AND created_utc >= 'a' AND created_utc < 'b' ORDER BY created_utc, "
                    "device_id, seq, song_id LIMIT 100"
                )
            )
        )
    assert (
        "SEARCH statement_lines USING PRIMARY KEY (holder_id=? AND created_utc>? AND created_utc<?)"
        in plan
    )
    assert "TEMP B-TREE" not in plan  # no sort: the key's order is the statement's
