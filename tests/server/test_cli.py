"""The admin CLI works on the running server's database: accounts, songs, consent set/revoke."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from musicapp.testing.server_helpers import SONG_A, LiveServer, auth


def test_cli_accounts_songs_and_consent_reach_the_server(
    live_server: LiveServer, tmp_path: Path
) -> None:
    song = {**SONG_A, "id": "cli-song"}
    path = tmp_path / "song.json"
    path.write_text(json.dumps(song))
    done = live_server.cli("song", "add", str(path))
    assert done.returncode == 0, done.stderr
    assert "added" in done.stdout
    assert "already registered" in live_server.cli("song", "add", str(path)).stdout

    done = live_server.cli(
        "account", "create", "--role", "holder", "--holder-id", "h-ann", "--name", "Ann"
    )
    token = json.loads(done.stdout)["token"]
    done = live_server.cli(
        "consent", "set", "cli-song", "h-ann",
        "--permissions", "song_inference", "--uses", "private", "commercial",
        "--prices", '{"commercial": 0.1}',
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == 1
    assert live_server.cli("consent", "revoke", "cli-song", "h-ann").returncode == 0

    r = httpx.get(f"{live_server.url}/v1/consent/cli-song/history", headers=auth(token))
    records = r.json()["records"]
    assert [(x["version"], x["revoked_at"] is not None) for x in records] == [(1, False), (2, True)]
    assert records[0]["prices"] == {"commercial": 0.1}

    bad = live_server.cli("consent", "set", "cli-song", "h-ann", "--permissions", "dance")
    assert bad.returncode == 2 and "permissions" in bad.stderr
    missing = live_server.cli("consent", "revoke", "no-such-song", "h-ann")
    assert missing.returncode == 2 and "no-such-song" in missing.stderr


def test_cli_statement_is_the_one_the_api_serves(live_server: LiveServer) -> None:
    done = live_server.cli("account", "create", "--role", "admin", "--name", "stmt")
    admin = json.loads(done.stdout)["token"]
    period = {"holder_id": "h-ann", "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    args = ("statement", "h-ann", "--from", period["from"], "--to", period["to"])
    for fmt in ("json", "csv"):
        done = live_server.cli(*args, "--format", fmt)
        assert done.returncode == 0, done.stderr
        served = httpx.get(
            f"{live_server.url}/v1/statements",
            params={**period, "format": fmt},
            headers=auth(admin),
        )
        assert served.status_code == 200
        if fmt == "json":
            assert json.loads(done.stdout) == served.json()
        else:
            assert done.stdout.splitlines() == served.text.splitlines()
            assert done.stdout.startswith(
                "event_id,song_id,use,share,split,price_version,price,amount,flags"
            )
    backwards = live_server.cli(
        "statement", "h-ann", "--from", period["to"], "--to", period["from"]
    )
    assert backwards.returncode == 2 and "--to" in backwards.stderr
    no_zone = live_server.cli("statement", "h-ann", "--from", "2026-01-01", "--to", period["to"])
    assert no_zone.returncode == 2 and "--from" in no_zone.stderr and "time zone" in no_zone.stderr
