"""Connects compensation (``studio.compensation``) to the window: Tools → Royalties… opens the
Royalties view, and its take tab follows the window's take and the request being built.

The window keeps its composition; when the view asks again lives here: after a pause in the
edits to the references, the take settings or the user's audio (the request being built), and
whenever the result panel shows a new take (its audit widget's ``changed`` fires on every take
it shows). A view that is closed, or shows another tab, asks nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence

from musicapp.core import InvalidInput
from musicapp.ui.royalties_view import RoyaltiesView

if TYPE_CHECKING:
    from musicapp.core import GenerationRequest, Song
    from musicapp.takes import Take
    from musicapp.ui.main_window import MainWindow
    from musicapp.ui.services import RoyaltiesPort

FOLLOW_MS = 250  # the take tab waits this long after the last edit before asking again


class RoyaltiesWiring(QObject):
    """Owns `action` (for the Tools menu) and the one Royalties view."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.view: RoyaltiesView | None = None
        self._shown_take: Take | None = None
        action = QAction("&Royalties…", window)
        action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        action.setToolTip("What a take pays whom, the period's statement, and the simulator")
        action.triggered.connect(lambda: self.open_view())
        self.action = action
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self._refresh)
        for changed in (
            window.references.changed,
            window.settings_panel.changed,
            window.user_audio.changed,
        ):
            changed.connect(self._timer.start)
        window.result.audit.changed.connect(self._on_result_changed)

    # Read when asked: the view never keeps a copy of what the window shows.
    def room(self) -> RoyaltiesPort:
        return self._window.studio.compensation

    def take(self) -> Take | None:
        return self._window.result.take

    def request(self) -> GenerationRequest | None:
        """The request the window shows, or None while it is incomplete."""
        window = self._window
        if not window.references.count():
            return None
        try:
            return window.current_request()
        except InvalidInput:
            return None

    def song(self, song_id: str) -> Song | None:
        return self._window.studio.song(song_id)

    def open_view(self, tab: int | None = None) -> RoyaltiesView:
        """Tools → Royalties…: one non-modal view, raised if it is open already."""
        if self.view is None:
            self.view = RoyaltiesView(
                self.room, self._window.runner, self.take, self.request, self.song, self._window
            )
        view = self.view
        if tab is not None:
            view.tabs.setCurrentIndex(tab)
        view.show()
        view.raise_()
        view.activateWindow()
        view.refresh()
        return view

    def _on_result_changed(self) -> None:
        take = self.take()
        if take is not self._shown_take:
            self._shown_take = take
            self._refresh()

    def _refresh(self) -> None:
        if self.view is not None:
            self.view.refresh()
