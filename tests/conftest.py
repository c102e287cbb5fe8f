"""Fixtures shared by every test folder: a small demo catalogue, built once per session."""

from pathlib import Path

import pytest

from musicapp.catalog.demo import build_demo
from musicapp.catalog.store import CatalogStore

# The rights server's fixtures (env, live_server, database_url), for tests/server and tests/security.
pytest_plugins = ["musicapp.testing.server_fixtures"]

# The recipe puts permitted, partial, opted-out and revoked songs of several genres first.
SMALL_DEMO_SONGS = 10


@pytest.fixture(scope="session", autouse=True)
def models_dir_outside_home(tmp_path_factory: pytest.TempPathFactory):
    """Commands the tests run (an import embeds the new songs with the embedded text model,
    which is unpacked into the models folder) never write into the user's own models folder."""
    import os

    if "MUSICAPP_MODELS_DIR" in os.environ:
        yield
        return
    os.environ["MUSICAPP_MODELS_DIR"] = str(tmp_path_factory.mktemp("models"))
    yield
    os.environ.pop("MUSICAPP_MODELS_DIR", None)


@pytest.fixture(scope="session")
def demo_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(catalog_path, audio_dir) of the small demo catalogue; copy them before changing them."""
    root = tmp_path_factory.mktemp("demo-catalog")
    catalog_path, audio_dir = root / "catalog.sqlite", root / "audio"
    store = CatalogStore(catalog_path, audio_dir)
    try:
        built = build_demo(store, limit=SMALL_DEMO_SONGS)
        # The audit's index, built once: every take is audited, and each test's copy of the
        # catalogue would otherwise index it again.
        from musicapp.attribution.auditor import Auditor, audit_index_path

        auditor = Auditor(audit_index_path(catalog_path), store)
        auditor.catch_up()
        auditor.close()
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


@pytest.fixture
def demo_data_dir(tmp_path: Path, demo_dirs: tuple[Path, Path]) -> Path:
    """A fresh app data folder holding a copy of the small demo catalogue and its audio."""
    import shutil

    catalog_path, audio_dir = demo_dirs
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(catalog_path, data / "catalog.sqlite")
    shutil.copy(catalog_path.with_name("catalog-audit.sqlite"), data / "catalog-audit.sqlite")
    shutil.copytree(audio_dir, data / "audio")
    return data


@pytest.fixture
def demo_cli(demo_data_dir: Path, capsys: pytest.CaptureFixture[str]):
    """``run(*args)``: ``musicapp ARGS --data-dir DEMO --no-progress`` in this process over
    ``demo_data_dir``; (exit code, stdout, stderr)."""
    from musicapp.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--data-dir", str(demo_data_dir), "--no-progress"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def ledger(tmp_path: Path):
    """An empty ledger in the test's own folder."""
    from musicapp.ledger import Ledger

    with Ledger(tmp_path / "ledger.sqlite") as led:
        yield led


@pytest.fixture
def demo_studio(tmp_path: Path, demo_data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A Studio over `demo_data_dir` (its own catalogue copy, ledger and takes), no server."""
    from musicapp.config import Settings
    from musicapp.ledger import Ledger
    from musicapp.studio import Studio

    monkeypatch.delenv("MUSICAPP_CATALOG", raising=False)
    settings = Settings(data_dir=demo_data_dir, models_dir=tmp_path / "models", device="cpu")
    settings.server_url = ""
    settings.ensure_dirs()
    catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
    ledger = Ledger(settings.ledger_path)
    studio = Studio(settings, catalog, ledger)
    yield studio
    studio.close()
    ledger.close()
    catalog.close()


SYNC_SERVER = "https://rights.test"


@pytest.fixture
def synced_app(tmp_path: Path, demo_data_dir: Path):
    """(settings, catalog, ledger) over `demo_data_dir`, with the rights server SYNC_SERVER set."""
    from musicapp.config import Settings
    from musicapp.ledger import Ledger

    settings = Settings(data_dir=demo_data_dir, models_dir=tmp_path / "models", device="cpu")
    settings.server_url = SYNC_SERVER
    catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
    ledger = Ledger(settings.ledger_path)
    yield settings, catalog, ledger
    ledger.close()
    catalog.close()


@pytest.fixture
def server():
    """An in-process rights server (musicapp.testing.fake_server) for the sync client's tests."""
    from musicapp.testing.fake_server import FakeServer

    return FakeServer()


@pytest.fixture(scope="session")
def recordings() -> Path:
    """tests/data/recordings: two multitrack songs (44.1 and 48 kHz stereo, mix + stems) and a
    DI guitar, with manifests and measured facts (see its README). Read only."""
    return Path(__file__).parent / "data" / "recordings"


@pytest.fixture(scope="module")
def demo_auditor(demo_dirs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    """An Auditor over a copy of the small demo catalogue with its prebuilt index (one per test
    module: audits keep their last search)."""
    import shutil

    from musicapp.attribution.auditor import Auditor, audit_index_path

    catalog_path, audio_dir = demo_dirs
    root = tmp_path_factory.mktemp("audit")
    shutil.copy(catalog_path, root / "catalog.sqlite")
    shutil.copy(audit_index_path(catalog_path), root / "catalog-audit.sqlite")
    store = CatalogStore(root / "catalog.sqlite", audio_dir)
    auditor = Auditor(audit_index_path(root / "catalog.sqlite"), store)
    yield auditor
    auditor.close()
    store.close()
