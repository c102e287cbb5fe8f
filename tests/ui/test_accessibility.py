"""Accessibility (issue 19): every control reachable by keyboard in a sensible order, and every
button without words (an icon, a ×) has a name a screen reader can say."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from musicapp.core import GenerationRequest, Reference
from musicapp.jobs import CancelToken
from musicapp.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, fake_context, fake_studio):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)  # focus moves inside the active window only
    w.add_reference("s1")
    w.add_reference("s2")
    request = GenerationRequest((Reference("s1"), Reference("s2")), duration_s=4.0)
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    w.result.show_take(take, fake_studio.songs)
    qtbot.wait(100)
    yield w
    w.close()


def _visible(w: QWidget) -> bool:
    return w.isVisible() and w.isEnabled() and w.width() > 0 and w.height() > 0


def test_every_button_without_words_has_an_accessible_name(window):
    nameless = []
    for b in window.findChildren(QAbstractButton):
        if not b.isVisible() or b.text().replace("&", "").strip():
            continue
        if not b.accessibleName().strip():
            nameless.append(
                f"{type(b).__name__}#{b.objectName()} tip={b.toolTip()!r} in "
                f"{type(b.parent()).__name__}#{b.parent().objectName()}"
            )
    assert not nameless, nameless


@pytest.mark.parametrize("history_shown", [False, True])
def test_tab_reaches_every_control_left_to_right(qtbot, window, history_shown):
    """From the search box, Tab visits every visible, enabled control that takes focus, and
    the panels in reading order: catalogue, references, take settings, Generate, the take,
    and the Take history dock when it is shown (its list and buttons)."""
    if history_shown:
        window.history_ui.show_dock()
        window.history_ui.widget.refresh()
        window.history_ui.widget.table.selectRow(0)
        qtbot.wait(50)
    window.browser.search_box.setFocus()
    qtbot.waitUntil(lambda: window.browser.search_box.hasFocus())
    seen: list[QWidget] = []
    back_at_the_start = False
    for _ in range(400):
        w = QApplication.focusWidget()
        if w is None:
            break
        if seen and w is seen[0]:
            back_at_the_start = True
            break
        if w not in seen:
            seen.append(w)
        qtbot.keyClick(w, Qt.Key.Key_Tab)
    # no keyboard trap: Tab goes all the way round (the references table held it before)
    assert back_at_the_start, [f"{type(w).__name__}#{w.objectName()}" for w in seen]
    # every stop is a control: no empty container (the consent panel's scroll area was one)
    empty = [w for w in seen if type(w) in (QScrollArea, QWidget, QStackedWidget)]
    assert not empty, [f"{type(w).__name__}#{w.objectName()}" for w in empty]
    focusable = [
        w
        for w in window.findChildren(QWidget)
        if _visible(w)
        and w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and w.window() is window
        and not w.focusProxy()
    ]
    missed = [
        f"{type(w).__name__}#{w.objectName()} in {type(w.parent().parent()).__name__}"
        f"#{w.parent().parent().objectName()}"
        for w in focusable
        if w not in seen
    ]
    assert not missed, missed

    def first(panel: QWidget) -> int:
        return next(i for i, w in enumerate(seen) if panel.isAncestorOf(w) or w is panel)

    order = [
        first(window.browser),
        first(window.references),
        first(window.settings_panel),
        first(window.generate_bar.generate_button),
        first(window.result),
    ]
    if history_shown:
        order.append(first(window.history_ui.widget))
        assert window.history_ui.widget.delete_button in seen
    assert order == sorted(order), order
