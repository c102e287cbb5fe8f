"""The take's export dialog offers MP3 beside WAV and FLAC, and a name without a suffix gets the
chosen format's."""

from pathlib import Path

import pytest

from musicapp.export import ExportResult
from musicapp.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    return w


def test_the_export_dialog_offers_mp3(qtbot, window, fake_studio, monkeypatch, tmp_path: Path):
    window.add_reference("s1")
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=10000)
    asked: list[str] = []
    exported: list[Path] = []

    def choose(parent, caption, default, filters):
        asked.append(filters)
        return str(tmp_path / "my take"), "MP3 audio (*.mp3)"

    def export(take, path):
        exported.append(path)
        return ExportResult(path, Path(str(path) + ".attribution.json"), "evt-mp3", "")

    monkeypatch.setattr("musicapp.ui.result_widget.QFileDialog.getSaveFileName", choose)
    monkeypatch.setattr(fake_studio, "export", export)
    with qtbot.waitSignal(window.result.exported, timeout=10000):
        window.result.export_take()
    assert asked and "MP3 audio (*.mp3)" in asked[0].split(";;")
    assert exported == [tmp_path / "my take.mp3"]
