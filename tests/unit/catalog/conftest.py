"""An empty catalogue per test, and a maker of made-up songs to fill it with."""

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from catalog_fakes import tone_song

from musicapp.catalog.store import CatalogStore
from musicapp.core import Song


@pytest.fixture
def store(tmp_path: Path):
    s = CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio")
    yield s
    s.close()


@pytest.fixture
def make_song(tmp_path: Path) -> Callable[..., tuple[Song, dict[str, Path]]]:
    """make_song(id, seconds=2.0, **song_fields) -> (Song, stem files)."""
    return partial(tone_song, tmp_path / "stems")
