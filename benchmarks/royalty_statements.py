"""Times the rights server's period statements under a mechanism (GET /v1/royalties/statement
and /basis) over a logged period; prints one table.

Run: .venv/bin/python benchmarks/royalty_statements.py [--events N] [--songs S] [--holders H]

An in-process server (TestClient, SQLite in a temporary folder) gets S songs with two holders
each (Zipf-popular songs, holders drawn from H, prices set by admin consent), and a device
logs N generations of 1 to 4 songs each through the real intake. Each row times one request
end to end (the period read from the log, the registry, the royalties package, the JSON), and
checks the holder's recomputation from the basis agrees to the cent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from musicapp.royalties import period, statement
from musicapp.royalties.basis import basis_from_dict
from musicapp.royalties.period import Policy
from musicapp.server.app import create_app
from musicapp.server.settings import ServerSettings
from musicapp.testing.server_helpers import Env, generation_payload, raw_chain
from musicapp.transparency import signing


def _setup(env: Env, n_events: int, n_songs: int, n_holders: int, rng: np.random.Generator) -> str:
    for s in range(n_songs):
        holders = rng.choice(n_holders, size=2, replace=False)
        song = {
            "id": f"s{s}",
            "title": f"Song {s}",
            "artist": "A",
            "rights_holders": [
                {"id": f"h{holders[0]}", "name": "x", "kind": "artist", "split": 0.7},
                {"id": f"h{holders[1]}", "name": "y", "kind": "label", "split": 0.3},
            ],
        }
        assert env.post("/v1/songs", env.admin, {"song": song}).status_code == 201
        for h in holders:
            body = {
                "song_id": f"s{s}",
                "holder_id": f"h{h}",
                "permissions": ["song_inference"],
                "uses": ["commercial", "non_commercial"],
                "prices": {"commercial": float(rng.integers(1, 50)) / 100},
            }
            assert env.post("/v1/consent", env.admin, body).status_code == 201
    key = signing.generate_key()
    r = env.post("/v1/devices", None, {"name": "bench", "public_key": signing.public_key_b64(key)})
    token = r.json()["token"]
    weights = 1.0 / np.arange(1, n_songs + 1)
    weights /= weights.sum()
    items = []
    for _ in range(n_events):
        k = int(rng.integers(1, 5))
        songs = rng.choice(n_songs, size=k, replace=False, p=weights)
        shares = rng.dirichlet(np.ones(k))
        shares[-1] = 1.0 - shares[:-1].sum()
        use = "commercial" if rng.random() < 0.8 else "non_commercial"
        pairs = [(f"s{s}", float(x)) for s, x in zip(songs, shares, strict=True)]
        items.append(("generation", generation_payload(use, pairs)))
    chain = raw_chain(key, items)
    for i in range(0, len(chain), 1000):
        r = env.post("/v1/ledger/events", token, {"events": chain[i : i + 1000]})
        assert r.status_code == 200, r.text[:300]
    return "h0"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--songs", type=int, default=1_000)
    p.add_argument("--holders", type=int, default=300)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        settings = ServerSettings(
            data_dir=Path(tmp) / "server", write_rate_per_s=1e6, write_burst=10**6
        )
        with TestClient(create_app(settings)) as client:
            env = Env(client, Path(tmp))
            t0 = time.perf_counter()
            holder = _setup(env, args.events, args.songs, args.holders, rng)
            print(f"setup: {args.events} events logged in {time.perf_counter() - t0:.1f} s")
            now = datetime.now(UTC)
            when = {
                "from": (now - timedelta(hours=1)).isoformat(),
                "to": (now + timedelta(hours=1)).isoformat(),
            }
            t0 = time.perf_counter()
            r = env.get("/v1/royalties/basis", env.admin, **when)
            basis_s = time.perf_counter() - t0
            assert r.status_code == 200, r.text[:300]
            events, rights, start, end = basis_from_dict(r.json())
            print(f"{'request':<46} {'seconds':>8}")
            print(f"{'GET /v1/royalties/basis (' + str(len(r.content) // 1024) + ' KiB)':<46} "
                  f"{basis_s:>8.2f}")  # fmt: skip
            for params in (
                {"mechanism": "proportional"},
                {"mechanism": "top_k_uniform", "k": 1},
                {"mechanism": "top_k_proportional", "k": 2},
            ):
                t0 = time.perf_counter()
                r = env.get(
                    "/v1/royalties/statement", env.admin, holder_id=holder, **when, **params
                )
                took = time.perf_counter() - t0
                assert r.status_code == 200, r.text[:300]
                stated = r.json()
                mine = statement.statement_of(
                    period.compute(events, rights, Policy.from_params(stated["policy"])),
                    start,
                    end,
                    holder,
                )
                agree = "agrees" if statement.differences(stated, mine) == [] else "DIFFERS"
                label = f"GET /v1/royalties/statement {params['mechanism']}"
                print(f"{label:<46} {took:>8.2f}  ({len(stated['lines'])} lines, {agree})")
            client.app.state.server.engine.dispose()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
