"""Writes on the event loop (server/writes.py): a write that finds the write lock held waits in
the thread pool, and the server keeps answering everyone else meanwhile."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from musicapp.server.app import create_app
from musicapp.server.settings import ServerSettings
from musicapp.transparency import signing


def _device_body(name: str) -> dict[str, str]:
    return {"name": name, "public_key": signing.public_key_b64(signing.generate_key())}


def test_a_write_waits_for_a_held_lock_without_stalling_reads(tmp_path: Path) -> None:
    with TestClient(create_app(ServerSettings(data_dir=tmp_path))) as client:
        server = client.app.state.server  # type: ignore[attr-defined]
        assert server.inline_writes  # writes run inline when the lock is free
        assert client.post("/v1/devices", json=_device_body("first")).status_code == 201
        answers: list[int] = []
        server.write_lock.acquire()  # as a big upload in the thread pool would hold it
        try:
            waiting = threading.Thread(
                target=lambda: answers.append(
                    client.post("/v1/devices", json=_device_body("second")).status_code
                )
            )
            waiting.start()
            time.sleep(0.3)
            assert waiting.is_alive() and answers == []  # the write waits for the lock...
            reads: list[int] = []
            reader = threading.Thread(
                target=lambda: reads.append(client.get("/v1/server-key").status_code)
            )
            reader.start()
            reader.join(2.0)
            assert reads == [200]  # ...and reads are served meanwhile
        finally:
            server.write_lock.release()
        waiting.join(10)
        assert answers == [201]


def test_small_and_big_uploads_are_logged_whichever_way_they_run(tmp_path: Path) -> None:
    """A 10-event batch runs on the loop, a 150-event one in the thread pool (INLINE_EVENTS):
    both are receipted in full, and a big one that finds the lock held waits for it."""
    from musicapp.server.writes import INLINE_EVENTS
    from musicapp.testing.server_helpers import auth, raw_chain

    with TestClient(create_app(ServerSettings(data_dir=tmp_path))) as client:
        server = client.app.state.server  # type: ignore[attr-defined]
        key = signing.generate_key()
        reg = client.post(
            "/v1/devices", json={"name": "d", "public_key": signing.public_key_b64(key)}
        ).json()
        chain = raw_chain(key, [("note", {"n": i}) for i in range(10 + INLINE_EVENTS + 50)])
        small, big = chain[:10], chain[10:]
        r = client.post("/v1/ledger/events", json={"events": small}, headers=auth(reg["token"]))
        assert r.status_code == 200 and len(r.json()["receipts"]) == 10

        answers: list[Any] = []
        server.write_lock.acquire()
        try:
            waiting = threading.Thread(
                target=lambda: answers.append(
                    client.post(
                        "/v1/ledger/events", json={"events": big}, headers=auth(reg["token"])
                    )
                )
            )
            waiting.start()
            time.sleep(0.3)
            assert waiting.is_alive() and answers == []
        finally:
            server.write_lock.release()
        waiting.join(30)
        assert answers[0].status_code == 200
        receipts = answers[0].json()["receipts"]
        assert [r["seq"] for r in receipts] == [e["seq"] for e in big]
        head = client.get("/v1/log/sth", headers=auth(reg["token"])).json()
        assert head["tree_size"] == len(chain)
