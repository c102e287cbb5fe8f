"""Shared test helpers for the rights server: sample songs, accounts, signed device events."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from musicapp.ledger import Ledger
from musicapp.ledger.canonical import GENESIS_HASH, event_hash_from_json
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


def generation_payload(
    use: str,
    shares: list[tuple[str, float]],
    verification_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A generation payload of the form the studio logs (``Studio.generate``), small: one
    reference per (song id, share), the song ``@user`` being the user's own audio."""
    refs = [s for s, _ in shares if s != "@user"]
    out: dict[str, Any] = {
        "request": {
            "use": use,
            "references": [{"song_id": s, "level": "song", "weight": 1.0} for s in refs],
        },
        "provenance": {
            "engine": "concat",
            "notes": [],
            "shares": [
                {"reference": -1 if s == "@user" else refs.index(s), "song_id": s, "share": x}
                for s, x in shares
            ],
        },
        **extra,
    }
    if verification_id is not None:
        out["verification_event_id"] = verification_id
    return out


def verification_payload(
    use: str, versions: dict[str, dict[str, int]], cache: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A verification payload (``Studio.verify``): allowed, one decision per song with the
    consent versions relied on, and the consent cache (fresh from a server by default)."""
    return {
        "use": use,
        "allowed": True,
        "decisions": [
            {
                "reference": {"song_id": song, "level": "song"},
                "allowed": True,
                "reasons": [],
                "consent_versions": held,
                "alternatives": [],
            }
            for song, held in versions.items()
        ],
        "consent_cache": cache if cache is not None else consent_cache(60.0),
    }


def consent_cache(age_s: float, **changes: Any) -> dict[str, Any]:
    """The ``consent_cache`` a verification records: pulled from a server ``age_s`` ago."""
    pulled = datetime.now(UTC) - timedelta(seconds=age_s)
    return {
        "local_only": False,
        "server_url": "https://rights.example",
        "ttl_s": 86400.0,
        "last_pull_at": pulled.isoformat(),
        "cache_age_s": age_s,
        "clock_offset_s": 0.0,
        **changes,
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


def raw_chain(
    key: signing.Ed25519PrivateKey,
    items: list[tuple[str, Any]],
    first_seq: int = 1,
    prev_hash: str = GENESIS_HASH,
    created_at: str | None = None,
) -> list[dict[str, Any]]:
    """Signed upload dicts for (kind, payload) items chained from ``prev_hash``, built without a
    local Ledger, so payloads it would refuse (NaN, 10**400 shares) can be sent as an attacker
    would; hashed over the payload's JSON text as json.dumps writes it (NaN included)."""
    out = []
    for offset, (kind, payload) in enumerate(items):
        seq = first_seq + offset
        event_id = f"raw-{secrets.token_hex(8)}"
        ts = created_at or datetime.now(UTC).isoformat()
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = event_hash_from_json(seq, event_id, kind, ts, text, prev_hash)
        out.append(
            {
                "seq": seq,
                "event_id": event_id,
                "kind": kind,
                "payload": payload,
                "created_at": ts,
                "prev_hash": prev_hash,
                "hash": digest,
                "signature": signing.sign(key, bytes.fromhex(digest)),
            }
        )
        prev_hash = digest
    return out


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

    def post(self, path: str, token: str | None, body: Any) -> Any:  # TestClient's response
        return self.client.post(path, json=body, headers=auth(token) if token else {})

    def get(self, path: str, token: str | None, **params: Any) -> Any:
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
