"""The one AppContext built at start: settings, catalogue store, ledger, sync and the studio."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from musicapp.catalog.store import CatalogStore
from musicapp.config import Settings, default_data_dir
from musicapp.ledger import Ledger
from musicapp.studio import Studio
from musicapp.sync.engine import SyncEngine
from musicapp.sync.state import SyncState


def _data_dir_args(settings: Settings) -> str:
    """What `musicapp ledger …` needs to find this data folder: nothing for the platform's
    default one; the folder itself otherwise (MUSICAPP_DATA_DIR may be unset in the terminal
    the command is pasted into)."""
    if settings.data_dir == default_data_dir():
        return ""
    return f" --data-dir {shlex.quote(str(settings.data_dir))}"


@dataclass
class AppContext:
    """Everything the front ends need, opened once and passed in (no singletons).

    It owns the one ``SyncState`` (``sync.sqlite``) and the one ``SyncEngine`` over it: the
    studio's sync room and its consent check share them, so nothing else opens that file.
    Building the engine touches no network (it connects when a sync runs). A sync state that
    cannot be opened (e.g. its mode lets others read the device token) stops the app with the
    way out, rather than letting consent be decided without the quarantine it holds.
    """

    settings: Settings
    catalog: CatalogStore
    ledger: Ledger
    studio: Studio
    sync_state: SyncState
    sync_engine: SyncEngine

    @classmethod
    def open(cls, settings: Settings | None = None) -> AppContext:
        settings = settings or Settings()
        settings.ensure_dirs()
        opened: list[CatalogStore | Ledger | SyncState] = []
        try:
            catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
            opened.append(catalog)
            ledger = Ledger(settings.ledger_path, cli_args=_data_dir_args(settings))
            opened.append(ledger)
            state = SyncState.in_folder(settings.data_dir)
            opened.append(state)
            engine = SyncEngine(settings, catalog, ledger, state=state)
            studio = Studio(settings, catalog, ledger, engine)
        except BaseException:
            for thing in reversed(opened):
                thing.close()
            raise
        return cls(settings, catalog, ledger, studio, state, engine)

    def close(self) -> None:
        self.studio.close()
        self.sync_state.close()
        self.ledger.close()
        self.catalog.close()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
