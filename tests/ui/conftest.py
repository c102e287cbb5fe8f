"""UI tests run offscreen with pytest-qt; set the platform before anything imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from ui_fakes import FakeContext, FakeSettings, FakeStudio  # noqa: E402


@pytest.fixture
def fake_studio() -> FakeStudio:
    return FakeStudio()


@pytest.fixture
def fake_context(tmp_path: Path, fake_studio: FakeStudio) -> FakeContext:
    return FakeContext(FakeSettings(tmp_path / "exports"), fake_studio)


@pytest.fixture
def context(tmp_path, demo_dirs, monkeypatch):
    """A real AppContext over a copy of the small demo catalogue, in a fresh data folder."""
    from musicapp.config import Settings
    from musicapp.context import AppContext

    monkeypatch.delenv("MUSICAPP_CATALOG", raising=False)
    catalog_path, audio_dir = demo_dirs
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(catalog_path, data / "catalog.sqlite")
    shutil.copytree(audio_dir, data / "audio")
    settings = Settings(data_dir=data, models_dir=tmp_path / "models", device="cpu")
    ctx = AppContext.open(settings)
    yield ctx
    ctx.close()
