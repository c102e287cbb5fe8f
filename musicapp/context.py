"""The one AppContext built at start: settings, catalogue store, ledger and the studio."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from musicapp.catalog.store import CatalogStore
from musicapp.config import Settings, default_data_dir
from musicapp.ledger import Ledger
from musicapp.studio import Studio


def _data_dir_args(settings: Settings) -> str:
    """What `musicapp ledger …` needs to find this data folder: nothing for the platform's
    default one; the folder itself otherwise (MUSICAPP_DATA_DIR may be unset in the terminal
    the command is pasted into)."""
    if settings.data_dir == default_data_dir():
        return ""
    return f" --data-dir {shlex.quote(str(settings.data_dir))}"


@dataclass
class AppContext:
    """Everything the front ends need, opened once and passed in (no singletons)."""

    settings: Settings
    catalog: CatalogStore
    ledger: Ledger
    studio: Studio

    @classmethod
    def open(cls, settings: Settings | None = None) -> AppContext:
        settings = settings or Settings()
        settings.ensure_dirs()
        catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
        try:
            ledger = Ledger(settings.ledger_path, cli_args=_data_dir_args(settings))
        except Exception:
            catalog.close()
            raise
        return cls(settings, catalog, ledger, Studio(settings, catalog, ledger))

    def close(self) -> None:
        self.studio.close()
        self.ledger.close()
        self.catalog.close()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
