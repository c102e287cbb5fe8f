"""The panels on their own, over a fake studio: search, tray, verdict, waveform, playback."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox
from ui_fakes import answer_export_dialog

from musicapp.core import Level, Reference, Role, Use
from musicapp.ui.browser_widget import BrowserWidget
from musicapp.ui.catalog_model import song_ids_mime
from musicapp.ui.main_window import MainWindow
from musicapp.ui.waveform_widget import PEAK_BINS, peaks


@pytest.fixture
def window(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    return w


def test_search_results_replace_the_tree_after_a_pause(qtbot, fake_studio):
    browser = BrowserWidget(fake_studio)
    qtbot.addWidget(browser)
    browser.show()
    assert browser.pages.currentIndex() == browser.PAGE_TREE
    qtbot.keyClicks(browser.search_box, "romantic b")
    assert browser.pages.currentIndex() == browser.PAGE_TREE  # debounced: not yet
    qtbot.waitUntil(lambda: browser.pages.currentIndex() == browser.PAGE_RESULTS, timeout=2000)
    assert browser.results_model.rowCount() == 3
    assert browser.results_model.index(0).data().startswith("Song 10\n")
    with qtbot.waitSignal(browser.song_chosen) as chosen:
        browser.add_button.click()
    assert chosen.args == ["s10"]
    browser.search_box.clear()
    qtbot.waitUntil(lambda: browser.pages.currentIndex() == browser.PAGE_TREE, timeout=2000)


def test_double_click_on_a_result_adds_it_once(qtbot, window):
    browser = window.browser
    browser.search_box.setText("Song 7")
    browser.run_search()
    index = browser.results_model.index(0)
    pos = browser.results.visualRect(index).center()
    qtbot.mouseClick(browser.results.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(browser.results.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert [r.song_id for r in window.references.references()] == ["s7"]
    qtbot.keyClick(browser.search_box, Qt.Key.Key_Return)  # Enter adds the selected result
    assert window.references.count() == 2


def test_a_search_with_no_match_says_so(qtbot, fake_studio):
    browser = BrowserWidget(fake_studio)
    qtbot.addWidget(browser)
    browser.search_box.setText("zzz")
    browser.run_search()
    assert "No songs match" in browser.no_results.text()
    assert not browser.add_button.isEnabled()


def test_tray_builds_references_with_level_role_and_weight(qtbot, window, fake_studio):
    window.add_reference("s1")
    window.add_reference("s2")
    tray = window.references
    tray.set_level(1, Level.PARAMETER, Role.RHYTHM)
    tray.set_weight(0, 2.5)
    assert tray.references() == (
        Reference("s1", Level.SONG, None, None, 2.5),
        Reference("s2", Level.PARAMETER, Role.RHYTHM, None, 1.0),
    )
    assert tray._rows[1].role.isEnabled() and not tray._rows[0].role.isEnabled()
    tray._rows[0].remove.click()
    assert [r.song_id for r in tray.references()] == ["s2"]


def test_songs_dropped_on_the_tray_are_added(qtbot, window):
    target = window.references.placeholder
    mime = song_ids_mime(["s4", "s5"])
    drop = QDropEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.references.eventFilter(target, drop)
    assert [r.song_id for r in window.references.references()] == ["s4", "s5"]


def test_verdict_follows_every_change(qtbot, window):
    assert window.verification.verdict() == ""
    assert not window.generate_bar.generate_button.isEnabled()
    window.add_reference("s3")
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    assert window.generate_bar.generate_button.isEnabled()
    window.settings_panel.set_use(Use.COMMERCIAL)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Refused")
    text = window.verification.details_text()
    assert "non-commercial distribution only" in text and "Allowed instead" in text
    button = window.generate_bar.generate_button
    assert not button.isEnabled() and "Refused" in button.toolTip()


def test_generate_shows_waveform_legend_and_royalties(qtbot, window, fake_studio):
    window.add_reference("s1")
    window.add_reference("s2")
    window.references.set_weight(0, 3.0)
    qtbot.waitUntil(lambda: window.generate_bar.generate_button.isEnabled())
    qtbot.mouseClick(window.generate_bar.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=10000)
    assert window.result.waveform.point_count <= PEAK_BINS
    entries = window.result.legend.entries
    assert entries[0].startswith("Song 1") and "75.0 %" in entries[0]
    assert entries[1].startswith("Song 2") and "25.0 %" in entries[1]
    table = window.result.royalty_table
    rows = [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]
    # each song, then the holders paid for it (song share × split)
    assert [name for name, kind in rows if kind == "song"] == ["Song 1", "Song 2"]
    assert len(rows) == 6 and rows[0] == ("Song 1", "song") and rows[3] == ("Song 2", "song")
    qtbot.waitUntil(lambda: window.generate_bar.generate_button.isVisible())


def test_export_failure_shows_a_message_and_keeps_the_window(
    qtbot, window, fake_studio, monkeypatch
):
    window.add_reference("s1")
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=10000)

    def broken_export(take, path):
        raise OSError("read-only file system")

    monkeypatch.setattr(fake_studio, "export", broken_export)
    answer_export_dialog(monkeypatch, Path("/nowhere/take.flac"))
    window.result.export_take()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorBox") is not None, timeout=5000)
    box = window.findChild(QMessageBox, "errorBox")
    assert "/nowhere/take.flac" in box.text() and "read-only" in box.informativeText()
    assert "Export failed" in window.statusBar().currentMessage()
    box.close()
    assert window.result.export_button.isEnabled()


def test_play_is_disabled_with_the_reason_when_there_is_no_device(qtbot, window, monkeypatch):
    player = window.result._player
    monkeypatch.setattr(type(player), "available", property(lambda self: False))
    monkeypatch.setattr(
        type(player), "unavailable_reason", property(lambda self: "PortAudio library not found")
    )
    window.result._update_play_button()
    button = window.result.play_button
    assert not button.isEnabled()
    assert button.toolTip() == "Cannot play: PortAudio library not found"


def test_peaks_downsample_long_audio():
    audio = np.random.default_rng(0).uniform(-1, 1, (2, 32000 * 60)).astype(np.float32)
    t, lo, hi = peaks(audio, 32000)
    assert len(t) == PEAK_BINS and np.all(lo <= hi)
    assert 0 < t[0] < t[-1] < 60


def test_cancel_leaves_the_window_usable(qtbot, window, fake_studio):
    fake_studio.step_s = 0.2
    window.add_reference("s1")
    window.start_generation()
    assert window.generate_bar.cancel_button.isVisible()
    assert not window.references._rows[0].weight.isEnabled()
    with qtbot.waitSignal(window.generation.done, timeout=5000):
        qtbot.mouseClick(window.generate_bar.cancel_button, Qt.MouseButton.LeftButton)
    assert window.generation is None and window.result.take is None
    assert window.generate_bar.generate_button.isVisible()
    assert window.references._rows[0].weight.isEnabled()
    assert "cancelled" in window.statusBar().currentMessage()
    window.add_reference("s2")
    assert window.references.count() == 2


def test_exports_default_to_the_exports_folder(qtbot, window, monkeypatch, tmp_path):
    window.add_reference("s1")
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=10000)
    asked: list[Path] = []
    answer_export_dialog(monkeypatch, tmp_path / "mine.wav", asked)
    with qtbot.waitSignal(window.result.exported, timeout=5000):
        window.result.export_take()
    assert asked == [window.context.settings.exports_dir]
    assert (tmp_path / "mine.wav").is_file()
    assert "evt-123" in window.statusBar().currentMessage()


def test_first_run_builds_the_demo_catalogue_then_shows_the_tree(qtbot, fake_context, monkeypatch):
    fake_context.studio.empty = True
    fake_context.studio.step_s = 0.1
    monkeypatch.setenv("MUSICAPP_FIRST_RUN", "demo")  # the first-run question, answered
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.demo_build is not None, timeout=5000)
    browser = w.browser
    assert browser.pages.currentIndex() == browser.PAGE_BUILDING
    assert "public-domain scores" in browser.building_label.text()
    assert not browser.search_box.isEnabled()
    qtbot.waitUntil(lambda: browser.building_bar.value() > 0, timeout=5000)
    qtbot.waitUntil(lambda: w.demo_build is None, timeout=5000)
    assert browser.pages.currentIndex() == browser.PAGE_TREE
    assert browser.search_box.isEnabled()
    qtbot.waitUntil(lambda: browser.tree_model.rowCount() == 2)
    assert "Demo catalogue ready: 12 songs" in w.statusBar().currentMessage()
