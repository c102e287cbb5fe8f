"""Fixtures shared by every test folder: a small demo catalogue, built once per session."""

from pathlib import Path

import pytest

from musicapp.catalog.demo import build_demo
from musicapp.catalog.store import CatalogStore

# The recipe puts permitted, partial, opted-out and revoked songs of several genres first.
SMALL_DEMO_SONGS = 10


@pytest.fixture(scope="session")
def demo_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(catalog_path, audio_dir) of the small demo catalogue; copy them before changing them."""
    root = tmp_path_factory.mktemp("demo-catalog")
    catalog_path, audio_dir = root / "catalog.sqlite", root / "audio"
    store = CatalogStore(catalog_path, audio_dir)
    try:
        built = build_demo(store, limit=SMALL_DEMO_SONGS)
    finally:
        store.close()  # checkpoints the WAL, so a copy of the .sqlite file is complete
    assert built == SMALL_DEMO_SONGS, "the small demo catalogue lost songs; see the log"
    return catalog_path, audio_dir


@pytest.fixture(scope="session")
def demo_store(demo_dirs: tuple[Path, Path]):
    """The small demo catalogue, open for reading. Tests that write use a copy or a new store."""
    store = CatalogStore(*demo_dirs)
    yield store
    store.close()
