"""A data folder with a copy of the small demo catalogue, a ledger and an in-process server."""

import shutil
from pathlib import Path

import pytest

from musicapp.catalog.store import CatalogStore
from musicapp.config import Settings
from musicapp.ledger import Ledger
from musicapp.sync.fake_server import FakeServer

SERVER = "http://rights.test"


@pytest.fixture
def app(tmp_path: Path, demo_dirs: tuple[Path, Path]):
    """(settings, catalog, ledger) over a fresh data folder whose server is SERVER."""
    catalog_path, audio_dir = demo_dirs
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(catalog_path, data / "catalog.sqlite")
    shutil.copytree(audio_dir, data / "audio")
    settings = Settings(data_dir=data, models_dir=tmp_path / "models", device="cpu")
    settings.server_url = SERVER
    catalog = CatalogStore(data / "catalog.sqlite", data / "audio")
    ledger = Ledger(settings.ledger_path)
    yield settings, catalog, ledger
    ledger.close()
    catalog.close()


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()
