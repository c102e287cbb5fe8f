"""View → Catalogue panel (Ctrl+1) and Take panel (Ctrl+3): the side panels fold away and come
back, so a small screen can give the references the room (issue 19: "docked, collapsible
panels"). Kept between sessions; a new or opened take brings the Take panel back, since a take
nobody sees is a take nobody hears."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from musicapp.ui import kept

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

SHOWN_KEY = "window/panels_shown"


class PanelToggles:
    """One checkable action per side panel; ``reveal_take`` shows the Take panel."""

    def __init__(self, window: MainWindow, menu: QMenu) -> None:
        self._panels: dict[str, tuple[QWidget, QAction]] = {}
        for key, label, panel, keys in (
            ("catalogue", "&Catalogue panel", window.selection_ui.pane, "Ctrl+1"),
            ("take", "T&ake panel", window.result, "Ctrl+3"),
        ):
            action = QAction(label, window)
            action.setCheckable(True)
            action.setChecked(True)
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"Show or fold away the {label.replace('&', '').lower()}")
            action.toggled.connect(lambda on, p=panel: self._show(p, on))
            menu.addAction(action)
            self._panels[key] = (panel, action)
        window.result.shown.connect(self.reveal_take)
        shown = kept.settings().value(SHOWN_KEY)
        for key in self._panels:
            if isinstance(shown, list | str) and key not in list(shown):
                self._panels[key][1].setChecked(False)

    def action(self, key: str) -> QAction:
        return self._panels[key][1]

    def reveal_take(self) -> None:
        self._panels["take"][1].setChecked(True)

    def _show(self, panel: QWidget, on: bool) -> None:
        panel.setVisible(on)
        shown = [k for k, (_p, a) in self._panels.items() if a.isChecked()]
        kept.settings().setValue(SHOWN_KEY, shown or ["none"])
