"""Helpers for the sync client's tests: the in-process rights server as an httpx transport, and
a data folder's sync files backed up and restored as a user's backup tool would."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from fastapi.testclient import TestClient


class AppTransport(httpx.BaseTransport):
    """Hands each request to the real server app behind a TestClient (``env.client``), so a
    SyncEngine talks to it, for SQLite and PostgreSQL alike, without a socket."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii")
        answer = self.client.request(
            request.method, path, content=request.content, headers=dict(request.headers)
        )
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-encoding"}
        return httpx.Response(answer.status_code, headers=headers, content=answer.content)


# What a backup of the data folder holds of the ledger and the sync state: the databases with
# their WAL files and the ledger's anchor and checkpoint beside them.
SYNC_FILES = ("ledger.sqlite*", "sync.sqlite*")


def back_up(data_dir: Path, to: Path, patterns: tuple[str, ...] = SYNC_FILES) -> None:
    """Copy the files matching ``patterns`` (close the ledger and the sync state first)."""
    to.mkdir(parents=True, exist_ok=True)
    for pattern in patterns:
        for file in data_dir.glob(pattern):
            shutil.copy2(file, to / file.name)


def restore(backup: Path, data_dir: Path, patterns: tuple[str, ...] = SYNC_FILES) -> None:
    """Put back what ``back_up`` copied: the current files matching ``patterns`` go first."""
    for pattern in patterns:
        for file in data_dir.glob(pattern):
            file.unlink()
        for file in backup.glob(pattern):
            shutil.copy2(file, data_dir / file.name)
