"""Shared test helpers for the rights server: sample songs, accounts, signed device events."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from musicapp.ledger import Ledger
from musicapp.server.auth import create_account
from musicapp.transparency import signing

SONG_A: dict[str, Any] = {
    "id": "song-a",
    "title": "A",
    "artist": "Ann",
    "rights_holders": [
        {"id": "h-ann", "name": "Ann", "kind": "artist", "split": 0.6},
        {"id": "h-label", "name": "Label", "kind": "label", "split": 0.4},
    ],
}
SONG_B: dict[str, Any] = {
    "id": "song-b",
    "title": "B",
    "artist": "Bob",
    "rights_holders": [{"id": "h-bob", "name": "Bob", "kind": "artist", "split": 1.0}],
}


@dataclass
class Device:
    id: str
    token: str
    key: signing.Ed25519PrivateKey
    ledger: Ledger

    def upload_dicts(self, events: list[Any] | None = None) -> list[dict[str, Any]]:
        """The local ledger's events in the upload form, signed with this device's key."""
        chosen = events if events is not None else list(self.ledger.events())
        return [signed(e, self.key) for e in chosen]


def signed(event: Any, key: signing.Ed25519PrivateKey) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "event_id": event.id,
        "kind": event.kind,
        "payload": event.payload,
        "created_at": event.ts,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "signature": signing.sign(key, bytes.fromhex(event.hash)),
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Env:
    """A server app with accounts: admin, holders h-ann/h-label/h-bob, and helper methods."""

    def __init__(self, client: TestClient, tmp: Path) -> None:
        self.client, self.tmp = client, tmp
        server = client.app.state.server  # type: ignore[attr-defined]
        self.server = server
        with server.engine.begin() as conn:
            self.admin = create_account(conn, "admin", "root")[1]
            self.ann = create_account(conn, "holder", "Ann", holder_id="h-ann")[1]
            self.label = create_account(conn, "holder", "Label", holder_id="h-label")[1]
            self.bob = create_account(conn, "holder", "Bob", holder_id="h-bob")[1]
        self._devices = 0

    def post(self, path: str, token: str | None, body: Any) -> httpx.Response:
        return self.client.post(path, json=body, headers=auth(token) if token else {})

    def get(self, path: str, token: str | None, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params, headers=auth(token) if token else {})

    def add_songs(self) -> None:
        for song in (SONG_A, SONG_B):
            assert self.post("/v1/songs", self.admin, {"song": song}).status_code == 201

    def device(self) -> Device:
        self._devices += 1
        key = signing.generate_key()
        r = self.post(
            "/v1/devices",
            None,
            {"name": f"laptop {self._devices}", "public_key": signing.public_key_b64(key)},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        ledger = Ledger(self.tmp / f"device{self._devices}" / "ledger.sqlite")
        return Device(body["device_id"], body["token"], key, ledger)


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    database_url: str | None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "musicapp.server.cli", "--data-dir", str(self.data_dir)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)
