"""The window's keyboard: Ctrl+F to the search, Ctrl+Enter to generate, the window's shortcuts
working from inside text fields (Ctrl+E used to be swallowed as "end of line"), a sheet."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_fakes import answer_export_dialog

from musicapp.ui.main_window import MainWindow

TAKE_MS = 20_000


@pytest.fixture
def window(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)  # window shortcuts reach the active window only
    return w


def make_take(qtbot, window) -> None:
    """One take of s1 through the window, shown in the Take panel."""
    window.add_reference("s1")
    window.refresh_check()
    qtbot.waitUntil(lambda: window.generate_bar.generate_button.isEnabled(), timeout=TAKE_MS)
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not None and window.generation is None,
                    timeout=TAKE_MS)  # fmt: skip


def test_ctrl_f_goes_to_the_search_with_its_text_selected(qtbot, window):
    box = window.browser.search_box
    box.setText("Song")
    window.settings_panel.seed.setFocus()
    qtbot.waitUntil(lambda: window.settings_panel.seed.hasFocus())
    qtbot.keyClick(window.settings_panel.seed, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: box.hasFocus())
    assert box.selectedText() == "Song"


def test_ctrl_enter_generates_from_a_text_field(qtbot, window):
    window.add_reference("s1")
    window.refresh_check()
    qtbot.waitUntil(lambda: window.generate_bar.generate_button.isEnabled(), timeout=TAKE_MS)
    box = window.browser.search_box
    box.setFocus()
    qtbot.waitUntil(lambda: box.hasFocus())
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_MS)


def test_ctrl_enter_without_a_cleared_request_says_why(qtbot, window):
    qtbot.keyClick(
        window.browser.search_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
    )
    assert window.generation is None
    assert "reference" in window.statusBar().currentMessage()


def test_ctrl_e_exports_even_from_a_text_field(qtbot, window, monkeypatch):
    make_take(qtbot, window)
    asked: list[Path] = []
    answer_export_dialog(monkeypatch, None, asked)  # the user cancels the Export dialog
    box = window.browser.search_box
    box.setText("anything")
    box.setFocus()
    qtbot.waitUntil(lambda: box.hasFocus())
    qtbot.keyClick(box, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert len(asked) == 1
    assert box.text() == "anything"


def test_the_sheet_lists_every_shortcut(qtbot, window):
    rows = dict((what, keys) for keys, what in window.keyboard.sheet_rows())
    assert rows["Find in the catalogue"] == "Ctrl+F"
    assert rows["Generate"] == "Ctrl+Return or Ctrl+Enter"
    assert rows["Export take"] == "Ctrl+E"
    assert "Space" in [k for k, _w in window.keyboard.sheet_rows()]
    window.keyboard.sheet_action.trigger()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None or any(
        w.windowTitle() == "Keyboard shortcuts" and w.isVisible()
        for w in QApplication.topLevelWidgets()
    ))  # fmt: skip


def test_space_plays_and_stops_the_take_where_it_means_nothing_else(qtbot, window):
    """As in a DAW: Space on the take panel plays the take and stops it; in a text field it is
    a space, on a focused button it presses it, in the catalogue it previews (test_preview)."""
    from ui_fakes import FakePlayer

    player = FakePlayer()
    window.result._player = player
    make_take(qtbot, window)
    window.result._update_play_button()
    table = window.result.royalty_table
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert player.playing and len(player.played) == 1
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert not player.playing
    box = window.browser.search_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClicks(box, "a b")
    assert box.text() == "a b" and not player.playing
    assert ("Space", "Play or stop the take") in window.keyboard.sheet_rows()
