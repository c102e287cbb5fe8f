"""The server's data folder is 0700 and its database and key 0600 from the start; a folder or
database found open is tightened at start, and a signing key others could read stops it."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from musicapp.server.app import create_app, open_server
from musicapp.server.cli import main as server_cli
from musicapp.server.files import UnsafeFile
from musicapp.server.settings import ServerSettings
from musicapp.transparency import signing

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_server_keeps_its_folder_database_and_key_private(
    tmp_path: Path, database_url: str | None
) -> None:
    data = tmp_path / "server"
    settings = ServerSettings(data_dir=data, database_url=database_url)
    with TestClient(create_app(settings)) as client:
        key = signing.public_key_b64(signing.generate_key())
        assert client.post("/v1/devices", json={"name": "x", "public_key": key}).status_code == 201
        secrets = [data / "server_key.pem"]
        if database_url is None:  # SQLite: the database and its WAL files hold the token hashes
            secrets += [data / f"server.sqlite{end}" for end in ("", "-wal", "-shm")]
        assert _mode(data) == 0o700
        for path in secrets:
            assert path.exists() and _mode(path) == 0o600, (path, oct(_mode(path)))
        client.app.state.server.engine.dispose()  # type: ignore[attr-defined]


def test_open_folder_and_database_are_tightened_at_start_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "server"
    open_server(ServerSettings(data_dir=data)).close()
    database = data / "server.sqlite"
    notes = data / "notes.txt"
    notes.write_text("operator notes")
    for path, mode in ((data, 0o755), (database, 0o644), (notes, 0o644)):
        path.chmod(mode)
    with caplog.at_level(logging.WARNING, logger="musicapp.server.files"):
        open_server(ServerSettings(data_dir=data)).close()
    assert (_mode(data), _mode(database), _mode(notes)) == (0o700, 0o600, 0o600)
    warned = caplog.text
    assert str(database) in warned and "0644" in warned and str(notes) in warned


def test_a_signing_key_others_can_read_stops_the_server_and_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "server"
    open_server(ServerSettings(data_dir=data)).close()
    key = data / "server_key.pem"
    key.chmod(0o644)
    with pytest.raises(UnsafeFile) as refused:
        create_app(ServerSettings(data_dir=data))
    assert str(key) in refused.value.detail and "chmod 600" in refused.value.detail
    for command in (["account", "list"], ["serve", "--port", "1"]):
        assert server_cli(["--data-dir", str(data), *command]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(key) in err and "0644" in err
    assert _mode(key) == 0o644  # left for its owner to judge, not silently "fixed"
