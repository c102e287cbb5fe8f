"""The studio's door to the catalogue for what the front ends print about it: how many songs,
songs by id, and the demo's permitted songs (the import itself is ``Studio.import_job``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.core import Song


class LibraryRoom:
    """Catalogue reads beyond the browser's (``Studio.search``, ``catalogue_children``...)."""

    def __init__(self, catalog: CatalogStore) -> None:
        self._catalog = catalog

    def count(self) -> int:
        """How many songs the catalogue holds."""
        return self._catalog.count()

    def songs(self, song_ids: Iterable[str]) -> dict[str, Song]:
        """The catalogue's songs by id (ids it does not hold are left out)."""
        return self._catalog.songs(list(song_ids))

    @staticmethod
    def demo_song_ids() -> tuple[str, ...]:
        """Demo songs whose consent allows every use (what `musicapp demo --headless` picks)."""
        from musicapp.catalog.demo import PERMITTED_SONG_IDS

        return tuple(PERMITTED_SONG_IDS)
