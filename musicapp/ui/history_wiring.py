"""Connects Take history (``take_history.py``) to the window: a dock under the panels, View →
Take history (Ctrl+Shift+H) and the Take panel's History button to show it, a new take listed
as it arrives, a take opened or exported from the list, a deleted take's panel cleared. Whether
the dock is shown, and where, and the widths of the three panels are kept between sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget

from musicapp.ui import kept
from musicapp.ui.error_dialog import show_error
from musicapp.ui.take_history import TakeHistoryWidget

if TYPE_CHECKING:
    from musicapp.takes import Take
    from musicapp.ui.main_window import MainWindow

STATE_KEY = "window/state"
STATE_VERSION = 1
SPLITTER_KEY = "window/panels"


class HistoryWiring(QObject):
    """Owns the dock (``dock``), its widget (``widget``) and the View menu's action."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.widget = TakeHistoryWidget(window.studio, window.runner, window.result.player)
        self.dock = QDockWidget("Take history", window)
        self.dock.setObjectName("takeHistoryDock")
        self.dock.setWidget(self.widget)
        self.dock.setAllowedAreas(
            Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea
        )
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()  # until asked for, or as the last session left it
        self.action = self.dock.toggleViewAction()
        self.action.setText("Take &history")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.action.setToolTip("Every take made so far: open, name, compare A/B, export, delete")

        self.widget.status.connect(window.show_status)
        self.widget.open_requested.connect(self.open_take)
        self.widget.export_requested.connect(self.export_take)
        self.widget.deleted.connect(self._on_deleted)
        window.result.history_button.clicked.connect(self.show_dock)
        self.dock.visibilityChanged.connect(lambda _v: self._update_button())
        self._update_button()

    def _update_button(self) -> None:
        count = len(self.widget.entries)
        self._window.result.history_button.setText(f"History ({count})")

    def show_dock(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.widget.table.setFocus()

    def took(self, take: Take) -> None:
        """A new take: list it, selected."""
        self.widget.refresh(select=take.id)
        self._update_button()

    def open_take(self, take_id: str) -> bool:
        """Show the take in the Take panel; False (and the reason) when it cannot be."""
        window = self._window
        try:
            take = window.studio.take(take_id)
            songs = {r.song_id: window.studio.song(r.song_id) for r in take.request.references}
            window.result.show_take(take, {k: v for k, v in songs.items() if v is not None})
        except Exception as exc:
            show_error(window, "Cannot open the take", f"Take {take_id} could not be shown.", exc)
            return False
        window.export_action.setEnabled(True)
        window.show_status(f"Showing take “{self._label(take_id)}”")
        return True

    def export_take(self, take_id: str) -> None:
        if self.open_take(take_id):
            self._window.result.export_take()

    def _on_deleted(self, take_id: str) -> None:
        result = self._window.result
        if result.take is not None and result.take.id == take_id:
            result.clear()
            self._window.export_action.setEnabled(False)
        self._update_button()

    def _label(self, take_id: str) -> str:
        return next((e.label for e in self.widget.entries if e.id == take_id), take_id)

    # -- the window's layout between sessions ----------------------------------------------------

    def restore(self) -> None:
        """The docks and the panels' widths as the last session left them."""
        settings = kept.settings()
        state = settings.value(STATE_KEY)
        if state is not None:
            self._window.restoreState(state, STATE_VERSION)
        panels = settings.value(SPLITTER_KEY)
        if panels is not None:
            self._window.splitter.restoreState(panels)

    def save(self) -> None:
        settings = kept.settings()
        settings.setValue(STATE_KEY, self._window.saveState(STATE_VERSION))
        settings.setValue(SPLITTER_KEY, self._window.splitter.saveState())
