"""The test harness's server process: it must talk to its own server. In CI two test workers
started servers at once; one got a port the other had just taken, its server exited with
"address already in use", and its tests ran against the other worker's server (tokens
refused, consent records missing)."""

from __future__ import annotations

import httpx

from musicapp.testing.server_process import ServerProcess
from musicapp.transparency import signing


def _key_id(url: str) -> str:
    return httpx.get(f"{url}/v1/server-key", timeout=5).json()["key_id"]


def test_a_server_whose_port_was_taken_moves_to_another_and_answers_itself(tmp_path):
    with ServerProcess(tmp_path / "first") as first:
        second = ServerProcess(tmp_path / "second")
        second.port, second.url = first.port, first.url  # taken between free_port and bind
        try:
            second.start(timeout_s=60)
            assert second.port != first.port
            own = signing.key_id(signing.load_private_key(tmp_path / "second" / "server_key.pem"))
            assert _key_id(second.url) == own != _key_id(first.url)
            assert "address already in use" in second.log_text()
        finally:
            second.stop()
