"""Collapsible panels (issue 19: "docked, collapsible panels with remembered splitters; usable at
1024×640"): View → Catalogue panel (Ctrl+1) and Take panel (Ctrl+3) fold a side panel away and
give its room to the others; the choice is kept; a new take brings the Take panel back."""

from __future__ import annotations

from PySide6.QtCore import Qt

from musicapp.core import GenerationRequest, Reference
from musicapp.jobs import CancelToken
from musicapp.ui.main_window import MainWindow


def _window(qtbot, fake_context) -> MainWindow:
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.resize(1024, 640)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    return w


def test_folding_the_catalogue_gives_its_room_to_the_references(qtbot, fake_context):
    w = _window(qtbot, fake_context)
    catalogue = w.selection_ui.pane
    references_width = w.references.width()
    qtbot.keyClick(w, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not catalogue.isVisible())
    assert not w.panels.action("catalogue").isChecked()
    qtbot.waitUntil(lambda: w.references.width() > references_width + 100)
    assert w.width() == 1024  # the window did not jump
    w.panels.action("catalogue").trigger()
    qtbot.waitUntil(catalogue.isVisible)


def test_the_choice_is_kept_and_a_new_take_brings_the_take_panel_back(
    qtbot, fake_context, fake_studio
):
    w = _window(qtbot, fake_context)
    w.panels.action("take").trigger()
    assert not w.result.isVisible()
    w.close()
    again = _window(qtbot, fake_context)  # the next session
    assert not again.result.isVisible() and not again.panels.action("take").isChecked()
    assert again.selection_ui.pane.isVisible()
    request = GenerationRequest((Reference("s1"),), duration_s=4.0)
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    again.result.show_take(take, fake_studio.songs)
    qtbot.waitUntil(again.result.isVisible)
    assert again.panels.action("take").isChecked()
