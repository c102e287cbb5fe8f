"""Rights-server fixtures for pytest (tests/conftest.py loads them as a plugin, so tests/server and
tests/security share them): an in-process app per test (TestClient) and one real server process.

The database is parametrized: SQLite always, and PostgreSQL too when MUSICAPP_TEST_POSTGRES_URL
is set (tables are dropped first, so point it at a throwaway server: ``.ci/run`` starts one).
Each pytest-xdist worker, and the live server apart from the in-process apps, gets a database of
its own beside the one in the URL (``<name>_app_gw0``, ``<name>_live_gw0``, created on first use),
so that parallel workers never drop each other's tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from musicapp.server.app import create_app
from musicapp.server.settings import ServerSettings
from musicapp.testing.server_helpers import Env, LiveServer
from musicapp.testing.server_process import ServerProcess

PG_ENV = "MUSICAPP_TEST_POSTGRES_URL"
DATABASES = ["sqlite"] + (["postgres"] if os.environ.get(PG_ENV) else [])


@cache
def _postgres_url(role: str) -> str:
    """The URL of this worker's own database for ``role``, created if it does not exist yet."""
    base = make_url(ServerSettings(Path("."), os.environ[PG_ENV]).resolved_database_url())
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{base.database}_{role}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    from musicapp.server.db import make_engine

    engine = make_engine(ServerSettings(Path("."), url).resolved_database_url())
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url = _postgres_url("app")
    reset_postgres(url)
    return url


@pytest.fixture
def env(tmp_path: Path, database_url: str | None) -> Iterator[Env]:
    settings = ServerSettings(data_dir=tmp_path / "server", database_url=database_url)
    with TestClient(create_app(settings)) as client:
        e = Env(client, tmp_path)
        yield e
        client.app.state.server.engine.dispose()  # type: ignore[attr-defined]


# -- the real server in a subprocess -------------------------------------------------------------


@pytest.fixture(scope="session", params=DATABASES)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``musicapp-server serve`` under uvicorn on a free loopback port, until the session ends."""
    url = None
    if request.param == "postgres":
        url = _postgres_url("live")
        reset_postgres(url)
    data_dir = tmp_path_factory.mktemp("live-server")
    with ServerProcess(data_dir, database_url=url) as server:
        yield LiveServer(server.url, data_dir, url)
