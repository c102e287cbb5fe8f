"""The Verify window (File → Verify…, audio files dropped on the window): a real signed export
read link by link, the same file with one sample changed, the offline options through the
port, and drops that are not audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog

from musicapp.core import InvalidInput
from musicapp.export import export_audio
from musicapp.export.report import Check, FileReport
from musicapp.ledger import Ledger
from musicapp.rooms.records import RecordsRoom
from musicapp.testing.audio_edit import edit_one_sample
from musicapp.ui.catalog_model import song_ids_mime
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.main_window import MainWindow
from musicapp.ui.verify_window import VerifyWindow

VERIFY_MS = 20_000
ATTRIBUTION = {
    "generation_event_id": "gen-1",
    "use": "commercial",
    "engine": "concat",
    "references": [
        {"song_id": "s2", "title": "Song B", "artist": "Band", "share": 0.375,
         "level": "parameter", "role": "melody"},
        {"song_id": "s1", "title": "Song A", "artist": "Composer", "share": 0.625,
         "level": "song"},
    ],
    "rights_holders": [{"id": "h1", "name": "Composer", "share": 1.0}],
}  # fmt: skip


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.cancel_all()
    r.wait(5000)


@pytest.fixture
def exported(tmp_path: Path):
    """A FLAC exported and signed as the studio exports, and the records room over its ledger."""
    pytest.importorskip("c2pa")
    from musicapp.export.c2pa_manifest import ManifestRequest

    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        audio = (0.3 * np.random.default_rng(3).standard_normal((2, 16000))).astype(np.float32)
        out = tmp_path / "take.flac"
        export_audio(audio, 32000, out, dict(ATTRIBUTION), ledger, c2pa=ManifestRequest(tmp_path))
        yield out, RecordsRoom(ledger)


def verified(qtbot, room, runner, path: Path) -> VerifyWindow:
    window = VerifyWindow(room, runner, path)
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.report is not None and not window.busy, timeout=VERIFY_MS)
    return window


def states(window: VerifyWindow) -> list[tuple[str, str, str]]:
    return [(row.link.key, row.link.state, row.mark.text()) for row in window.link_rows]


def test_a_clean_export_shows_the_seven_links_and_the_references(qtbot, exported, runner):
    path, room = exported
    window = verified(qtbot, room, runner, path)
    assert states(window) == [
        ("file", "ok", "✓"),
        ("record", "ok", "✓"),
        ("c2pa", "ok", "✓"),
        ("ledger", "ok", "✓"),
        ("device", "absent", "–"),  # exported before any sync: no receipt to speak for it
        ("receipt", "absent", "–"),
        ("consent", "absent", "–"),
    ]
    assert window.summary.text() == "OK: take.flac"
    assert "signed by this device" in window.link_rows[2].detail.text()
    assert window.rows_text() == [
        "Song A | Composer | song | — | 62.5 %",
        "Song B | Band | parameter | melody | 37.5 %",
    ]
    assert not window.error_label.isVisible()


def test_one_changed_sample_turns_the_file_link_red_with_the_reason(qtbot, exported, runner):
    path, room = exported
    tampered = edit_one_sample(path, path.with_name("edited.flac"))
    window = verified(qtbot, room, runner, tampered)
    file_row = window.link_rows[0]
    assert (file_row.link.state, file_row.mark.text()) == ("failed", "✗")
    assert file_row.detail.text().startswith("the audio was changed after export")
    assert window.summary.text().startswith("FAILED: edited.flac: audio:")
    # The record still names the same references: it is the audio that no longer matches.
    assert [s for _k, s, _m in states(window)][:4] == ["failed", "ok", "failed", "failed"]
    assert len(window.rows_text()) == 2


def test_copy_report_puts_the_failing_reason_on_the_clipboard(qtbot, exported, runner):
    path, room = exported
    window = verified(qtbot, room, runner, edit_one_sample(path, path.with_name("e.flac")))
    QGuiApplication.clipboard().clear()
    window.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert "FAILED: e.flac: audio: the audio was changed after export" in text
    assert "[FAILED]  File: the audio was changed after export" in text
    assert "[absent]  Server receipt:" in text
    assert "Song A — Composer (level song, role —): 62.5 %" in text


def test_offline_passes_offline_and_the_ca_through_the_port(qtbot, fake_studio, runner, tmp_path):
    room = fake_studio.records
    path = tmp_path / "take.wav"
    window = verified(qtbot, room, runner, path)
    assert room.verify_calls == [(path, False, None)]
    assert not window.ca_button.isVisible()
    ca = tmp_path / "server-ca.pem"
    window.set_ca(ca)  # what the CA certificate… picker sets
    window.offline.setChecked(True)
    assert window.ca_button.isVisible() and window.ca_button.isEnabled()
    window.report = None
    window.again_button.click()
    qtbot.waitUntil(lambda: window.report is not None and not window.busy, timeout=VERIFY_MS)
    assert room.verify_calls[-1] == (path, True, ca)
    assert "Checked offline, as a third party would" in window.summary.text()
    window.offline.setChecked(False)  # the CA is for offline checks only
    window.report = None
    window.again_button.click()
    qtbot.waitUntil(lambda: window.report is not None and not window.busy, timeout=VERIFY_MS)
    assert room.verify_calls[-1] == (path, False, None)


def test_a_failing_check_is_said_in_the_window_and_it_stays_usable(
    qtbot, fake_studio, runner, tmp_path
):
    room = fake_studio.records
    room.verify_error = InvalidInput("gone.wav: no such file")
    window = VerifyWindow(room, runner, tmp_path / "gone.wav")
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.error_label.isVisible() and not window.busy)
    assert window.error_label.text() == "Verification did not run: gone.wav: no such file"
    assert window.again_button.isEnabled() and window.link_rows == []
    window.copy_button.click()
    assert "Verification did not run: gone.wav: no such file" in QGuiApplication.clipboard().text()
    room.verify_error = None
    room.report = FileReport(Path("x"), [Check("readable", False, "not audio")], False)
    window.again_button.click()
    qtbot.waitUntil(lambda: window.report is not None and not window.busy)
    assert not window.error_label.isVisible()
    assert window.link_rows[0].link.state == "failed"


# -- the main window: File → Verify… and drops -----------------------------------------------


@pytest.fixture
def main(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def urls_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop_on(widget, mime: QMimeData) -> QDropEvent:
    """Drag `mime` over `widget` and drop it, as Qt delivers a drag from the file manager."""
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    enter = QDragEnterEvent(QPoint(10, 10), *args)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPoint(10, 10), *args)
    if enter.isAccepted():
        QApplication.sendEvent(widget, drop)
    return drop


def test_a_dropped_text_file_is_refused_with_a_message(qtbot, main, fake_studio, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio")
    drop_on(main, urls_mime(notes))
    assert main.statusBar().currentMessage() == (
        "Not an audio file: notes.txt. Drop a WAV, FLAC or MP3 file to verify it."
    )
    assert main.verify_ui.windows == [] and fake_studio.records.verify_calls == []


def test_dropped_audio_files_open_a_verify_window_each(qtbot, main, fake_studio, tmp_path):
    files = [tmp_path / "a.wav", tmp_path / "b.FLAC", tmp_path / "c.txt"]
    assert main.acceptDrops()  # else a real drag from the file manager never reaches the filter
    drop = drop_on(main, urls_mime(*files))
    assert drop.isAccepted()
    assert [w.path for w in main.verify_ui.windows] == files[:2]
    assert "skipped 1 that are not WAV, FLAC or MP3" in main.statusBar().currentMessage()
    qtbot.waitUntil(lambda: len(fake_studio.records.verify_calls) == 2, timeout=VERIFY_MS)
    first = main.verify_ui.windows[0]
    first.close()
    assert [w.path for w in main.verify_ui.windows] == files[1:2]


def test_songs_dragged_from_the_catalogue_still_drop_on_the_tray(qtbot, main):
    drop_on(main.references.placeholder, song_ids_mime(["s4"]))
    assert [r.song_id for r in main.references.references()] == ["s4"]
    assert main.verify_ui.windows == []
    # Songs dragged over the rest of the window are not taken for files. (Asked of the filter:
    # a drag Qt's QMainWindow refuses needs a real QDrag behind it, which a test cannot make.)
    args = (Qt.DropAction.CopyAction, song_ids_mime(["s5"]), Qt.MouseButton.LeftButton)
    enter = QDragEnterEvent(QPoint(5, 5), *args, Qt.KeyboardModifier(0))
    enter.ignore()
    assert not main.verify_ui.eventFilter(main, enter)
    assert not enter.isAccepted()


def test_file_menu_verify_asks_for_a_file(qtbot, main, fake_studio, tmp_path, monkeypatch):
    path = tmp_path / "take.mp3"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )
    assert main.verify_ui.action.shortcut().toString() == "Ctrl+Shift+V"
    assert main.verify_ui.action in main.menuBar().actions()[0].menu().actions()
    main.verify_ui.action.trigger()
    qtbot.waitUntil(lambda: fake_studio.records.verify_calls == [(path, False, None)])
    assert main.verify_ui.windows[0].windowTitle() == "Verify — take.mp3"
