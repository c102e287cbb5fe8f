"""``musicapp-server serve``: one process, or several over one PostgreSQL database.

Several processes (``--workers N``: uvicorn's worker processes sharing one port; or several
servers behind one address, each started with the same data folder's key and database URL) keep
one log because every append reads the log's size FOR UPDATE in its transaction, registry
writes take a table lock (``db.lock_registry``), and migrations an advisory lock. SQLite is
refused for N > 1: there the log's order is kept by the one process's write lock, and a second
process would meet SQLite's single writer as errors, not as a queue.

The parent migrates the database and makes the signing key once, before any worker starts;
each worker builds its app from the settings the parent puts in the environment. Write rate
limits are per process: N processes allow N times the rate.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from musicapp.server.errors import ApiError
from musicapp.server.settings import ServerSettings

SETTINGS_ENV = "MUSICAPP_SERVER_WORKER_SETTINGS"
MAX_WORKERS = 64


def serve(settings: ServerSettings, host: str, port: int, workers: int = 1, **options: Any) -> None:
    """Run the server until it is stopped; ApiError (exit 2) for a worker count it refuses.

    ``options`` go to uvicorn as they are (TLS files, trusted proxies)."""
    import uvicorn

    from musicapp.server.app import create_app, open_server

    if not 1 <= workers <= MAX_WORKERS:
        raise ApiError(2, f"--workers: {workers} is not between 1 and {MAX_WORKERS}")
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", **options)
        return
    if settings.resolved_database_url().startswith("sqlite"):
        raise ApiError(
            2,
            f"--workers: {workers} processes need PostgreSQL (--database-url); on SQLite the "
            f"server runs as one process",
        )
    open_server(settings).close()  # schema and key, once
    os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(settings), default=str)
    uvicorn.run(
        f"{__name__}:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        **options,
    )


def app_from_environment() -> FastAPI:
    """A worker's app, from the settings its parent process left in the environment."""
    from musicapp.server.app import create_app

    values = json.loads(os.environ[SETTINGS_ENV])
    values["data_dir"] = Path(values["data_dir"])
    return create_app(ServerSettings(**values))
