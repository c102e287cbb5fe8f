"""Write rate limits (429 + Retry-After), body size limit (413), validation naming the field."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from musicapp.server.app import create_app
from musicapp.server.auth import create_account
from musicapp.server.settings import ServerSettings
from musicapp.transparency import signing


def _client(tmp_path: Path, **kw: object) -> TestClient:
    return TestClient(create_app(ServerSettings(data_dir=tmp_path, **kw)))  # type: ignore[arg-type]


def _device_body(name: str = "x") -> dict[str, str]:
    return {"name": name, "public_key": signing.public_key_b64(signing.generate_key())}


def test_writes_beyond_the_bucket_get_429_with_retry_after(tmp_path: Path) -> None:
    with _client(tmp_path, write_rate_per_s=0.5, write_burst=3) as client:
        codes = [client.post("/v1/devices", json=_device_body()).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        r = client.post("/v1/devices", json=_device_body())
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        # Reads are not limited, and an account (a known token) has its own bucket; a made-up
        # token is the same caller as no token (tests/security/test_rate_limits.py).
        assert client.get("/v1/server-key").status_code == 200
        with client.app.state.server.engine.begin() as conn:
            admin = create_account(conn, "admin", "root")[1]
        r = client.post("/v1/accounts", json={}, headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 422
        r = client.post("/v1/accounts", json={}, headers={"Authorization": "Bearer other"})
        assert r.status_code == 429


def test_oversized_bodies_get_413(tmp_path: Path) -> None:
    with _client(tmp_path, max_body_bytes=1000) as client:
        r = client.post("/v1/devices", json={"name": "x" * 2000, "public_key": "k"})
        assert r.status_code == 413 and "larger than 1000 bytes" in r.json()["detail"]

        def chunks():  # no Content-Length: the limit still holds
            for _ in range(5):
                yield b"x" * 400

        r = client.post("/v1/devices", content=chunks())
        assert r.status_code == 413


def test_bad_bodies_name_the_field(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        r = client.post("/v1/devices", json={"name": "x", "public_key": "AAAA"})
        assert r.status_code == 422 and r.json()["detail"].startswith("public_key")
        r = client.post("/v1/devices", json={"public_key": "AAAA"})
        assert r.status_code == 422 and r.json()["detail"].startswith("name")
        token = client.post("/v1/devices", json=_device_body()).json()["token"]
        bad = {
            "events": [
                {
                    "seq": 0,
                    "event_id": "e",
                    "kind": "k",
                    "payload": {},
                    "created_at": "t",
                    "prev_hash": "0" * 64,
                    "hash": "xyz",
                    "signature": "s",
                }
            ]
        }
        r = client.post("/v1/ledger/events", json=bad, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422
        assert "events[0].seq" in r.json()["detail"] and "events[0].hash" in r.json()["detail"]
        r = client.post(
            "/v1/devices", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422
        assert r.json()["detail"].startswith("body: not valid JSON at character 1")
        # The ledger intake parses with pydantic-core, and says the same about a broken body.
        r = client.post(
            "/v1/ledger/events",
            content=b'{"events": [',
            headers={"content-type": "application/json", "Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 422
        assert r.json()["detail"].startswith("body: not valid JSON at character 12")
        # And it still checks the schema the docs show.
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert "events" in schema["BatchIn"]["properties"]
        assert client.get("/docs").status_code == 200
        assert "/v1/ledger/events" in client.get("/openapi.json").json()["paths"]
