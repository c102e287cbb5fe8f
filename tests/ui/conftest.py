"""UI tests run offscreen with pytest-qt; set the platform before anything imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from ui_fakes import FakeContext, FakeSettings, FakeStudio  # noqa: E402


@pytest.fixture(autouse=True)
def own_qsettings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test keeps its choices (theme, export options) in a settings folder of its own, so
    no test sees another's or the user's."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


@pytest.fixture(autouse=True)
def no_dialog_left_open(qapp):
    """A window-modal dialog a test leaves open would swallow the next tests' clicks."""
    yield
    for _ in range(10):
        dialog = qapp.activeModalWidget()
        if dialog is None:
            break
        dialog.close()
        dialog.deleteLater()
        qapp.processEvents()


@pytest.fixture
def fake_studio() -> FakeStudio:
    return FakeStudio()


@pytest.fixture
def take_panel(qtbot, fake_studio: FakeStudio, tmp_path: Path):
    """(the Take panel over the fake studio, shown, with a FakePlayer; that player)."""
    from ui_fakes import FakePlayer

    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.result_widget import ResultWidget

    player = FakePlayer()
    widget = ResultWidget(fake_studio, JobRunner(), tmp_path, player)
    qtbot.addWidget(widget)
    widget.show()
    return widget, player


@pytest.fixture
def fake_context(tmp_path: Path, fake_studio: FakeStudio) -> FakeContext:
    return FakeContext(FakeSettings(tmp_path / "exports"), fake_studio)


def _settings(tmp_path: Path, demo_dirs: tuple[Path, Path]):
    """Settings over a fresh data folder holding a copy of the small demo catalogue."""
    from musicapp.config import Settings

    catalog_path, audio_dir = demo_dirs
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(catalog_path, data / "catalog.sqlite")
    shutil.copytree(audio_dir, data / "audio")
    return Settings(data_dir=data, models_dir=tmp_path / "models", device="cpu")


@pytest.fixture
def context(tmp_path, demo_dirs, monkeypatch):
    """A real AppContext over a copy of the small demo catalogue, in a fresh data folder."""
    from musicapp.context import AppContext

    monkeypatch.delenv("MUSICAPP_CATALOG", raising=False)
    ctx = AppContext.open(_settings(tmp_path, demo_dirs))
    yield ctx
    ctx.close()


@pytest.fixture
def damaged_context(tmp_path, demo_dirs, monkeypatch):
    """Like `context`, but its ledger's event 2 of 3 was edited with the sqlite3 shell first."""
    from musicapp.context import AppContext
    from musicapp.ledger import Ledger
    from musicapp.testing.ledger_tamper import tamper

    monkeypatch.delenv("MUSICAPP_CATALOG", raising=False)
    settings = _settings(tmp_path, demo_dirs)
    with Ledger(settings.ledger_path) as ledger:
        ledger.append_many([("verification", {"i": i}) for i in range(3)])
    tamper(settings.ledger_path, "UPDATE events SET payload = '{\"i\":9}' WHERE seq = 2")
    ctx = AppContext.open(settings)
    yield ctx
    ctx.close()
