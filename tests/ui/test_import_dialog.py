"""File → Import music…: real files into a real catalogue through the dialog, with its report."""

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from musicapp.catalog.importer import import_job
from musicapp.catalog.store import CatalogStore
from musicapp.jobs import FunctionJob, Progress
from musicapp.ui.import_dialog import ImportDialog
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.main_window import MainWindow


def _music_folder(root: Path) -> Path:
    """Two good WAVs and one text file that only calls itself a WAV."""
    folder = root / "music"
    folder.mkdir()
    rate = 32000
    t = np.arange(rate) / rate
    for name, hz in (("first.wav", 220), ("second.wav", 330)):
        tone = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
        sf.write(folder / name, np.stack([tone, tone]).T, rate)
    (folder / "broken.wav").write_text("not audio at all")
    return folder


@pytest.fixture
def store(tmp_path):
    s = CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio")
    yield s
    s.close()


def _dialog(qtbot, make_job) -> ImportDialog:
    dialog = ImportDialog(JobRunner(), make_job)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_importing_a_folder_reports_what_arrived_and_what_failed(qtbot, tmp_path, store):
    folder = _music_folder(tmp_path)
    dialog = _dialog(qtbot, lambda path, manifest: import_job(store, path, manifest))
    assert not dialog.import_button.isEnabled()  # nothing chosen yet
    dialog.set_paths(folder)
    assert dialog.import_button.isEnabled()

    with qtbot.waitSignal(dialog.catalogue_changed, timeout=20000):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
        assert dialog.progress_bar.isVisible() and not dialog.folder_edit.isEnabled()
    qtbot.waitUntil(lambda: dialog.handle is None, timeout=20000)

    summary = dialog.summary_label.text()
    assert "<b>2</b> imported" in summary
    assert "<b>0</b> skipped" in summary
    assert "<b>1</b> failed" in summary
    rows = dialog.failed_rows()
    assert len(rows) == 1 and rows[0][0] == "broken.wav" and rows[0][1]
    assert dialog.failed_table.isVisible()
    assert dialog.close_button.isVisible() and not dialog.cancel_button.isVisible()
    assert [s.title for s in store.browse.search("second", 10)] == ["second"]

    # Again: the same files are skipped as unchanged, and nothing new means no refresh.
    with qtbot.assertNotEmitted(dialog.catalogue_changed, wait=100):
        dialog.start_import()
        qtbot.waitUntil(lambda: dialog.handle is None, timeout=20000)
    assert "<b>0</b> imported" in dialog.summary_label.text()
    assert "<b>2</b> skipped" in dialog.summary_label.text()


def test_a_folder_that_does_not_exist_is_reported_in_the_dialog(qtbot, tmp_path, store):
    dialog = _dialog(qtbot, lambda path, manifest: import_job(store, path, manifest))
    dialog.set_paths(tmp_path / "nowhere")
    dialog.start_import()
    qtbot.waitUntil(lambda: dialog.handle is None, timeout=10000)
    assert "not found" in dialog.stage_label.text()
    assert dialog.isVisible() and dialog.import_button.isEnabled()


def test_cancel_stops_the_running_import(qtbot, tmp_path):
    files_done: list[int] = []

    def slow(path, manifest):
        def run(progress, cancel):
            for k in range(200):
                cancel.check()  # as the importer does between files
                progress(Progress(k / 200, "import", f"file{k}.wav"))
                files_done.append(k)
                time.sleep(0.01)
            raise AssertionError("the import was not cancelled")

        return FunctionJob("import_library", run, lane="io")

    dialog = _dialog(qtbot, slow)
    dialog.set_paths(tmp_path)
    dialog.start_import()
    qtbot.waitUntil(lambda: len(files_done) > 2, timeout=5000)
    token = dialog.handle.token
    with qtbot.waitSignal(dialog.catalogue_changed, timeout=5000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert token.cancelled
        assert dialog.isVisible()  # Cancel stops the import first; the dialog stays to say so
    qtbot.waitUntil(lambda: dialog.handle is None, timeout=5000)
    assert "cancelled" in dialog.stage_label.text()
    assert len(files_done) < 200
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)  # now it closes
    assert not dialog.isVisible()


def test_the_file_menu_imports_and_the_browser_refreshes(qtbot, tmp_path, fake_context, store):
    folder = _music_folder(tmp_path)
    studio = fake_context.studio
    studio.library.import_job = lambda path, manifest: import_job(store, path, manifest)
    window = MainWindow(fake_context)
    qtbot.addWidget(window)
    window.show()
    action = window.import_action
    assert action in window.menuBar().actions()[0].menu().actions()
    action.trigger()
    dialog = window.import_dialog
    assert dialog is not None and dialog.isVisible()
    fetched = len(studio.calls)
    dialog.set_paths(folder)
    dialog.start_import()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=20000)
    qtbot.waitUntil(lambda: len(studio.calls) > fetched)  # the tree reloaded
    assert "import" in window.statusBar().currentMessage()


def test_a_corrected_manifest_shows_whose_rights_changed(qtbot, tmp_path, store):
    from musicapp.ledger import Ledger

    folder = _music_folder(tmp_path)
    manifest = folder / "manifest.csv"

    def write_manifest(shares: str) -> None:
        manifest.write_text(
            "file,title,artist,rights_holders,permissions,uses\n"
            f"first.wav,First,Ann Archer,{shares},song_level,private\n"
        )

    write_manifest("Ann Archer:0.5;Bo Baker:0.5")
    with Ledger(tmp_path / "ledger.sqlite") as ledger:

        def make_job(path, manifest_path):
            record = lambda kind, payload: ledger.append(kind, payload).id  # noqa: E731
            return import_job(store, path, manifest_path, record=record)

        dialog = _dialog(qtbot, make_job)
        dialog.set_paths(folder, manifest)
        dialog.start_import()
        qtbot.waitUntil(lambda: dialog.handle is None, timeout=20000)
        assert not dialog.changes_label.isVisible()

        write_manifest("Ann Archer:0.8;Bo Baker:0.2")
        with qtbot.waitSignal(dialog.catalogue_changed, timeout=20000):
            dialog.start_import()
        qtbot.waitUntil(lambda: dialog.handle is None, timeout=20000)
        assert "<b>1</b> rights updated" in dialog.summary_label.text()
        assert dialog.changes_label.isVisible()
        assert "ann-archer-first: rights: Ann Archer 0.5 → 0.8, Bo Baker 0.5 → 0.2" in (
            dialog.changes_label.text()
        )
