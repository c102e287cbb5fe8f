"""Tools → Audio output: the output every preview, take and stem plays on (issue 19: "no
output-device choice"). Listed afresh each time the menu opens, so a DAC plugged in since is
there; the choice is kept by name and falls back to the system's default when it is gone.
Without any output the menu says why, in the same words as the Play buttons."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from musicapp.audio import playback
from musicapp.ui import kept

SETTINGS_KEY = "audio/output"
DEFAULT = "System default"


class AudioOutputMenu(QObject):
    """Owns ``menu``; the saved choice is applied when it is made."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.menu = QMenu("Audio &output", parent)
        self.menu.setToolTip("Where previews, takes and stems are heard")
        self.menu.aboutToShow.connect(self.refresh)
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        playback.set_output(str(kept.settings().value(SETTINGS_KEY, "")))
        self.refresh()

    def refresh(self) -> None:
        """List the outputs as they are now."""
        self.menu.clear()
        for action in self._group.actions():
            self._group.removeAction(action)
        names, reason = playback.outputs()
        if not names:
            none = QAction(f"No audio output: {reason}", self.menu)
            none.setEnabled(False)
            self.menu.addAction(none)
            return
        current = playback.current_output()
        if current and current not in names:
            current = ""  # unplugged: the default plays
        for name in ["", *names]:
            action = QAction(name or DEFAULT, self.menu)
            action.setCheckable(True)
            action.setChecked(name == current)
            action.triggered.connect(lambda _c=False, n=name: self.choose(n))
            self._group.addAction(action)
            self.menu.addAction(action)

    def choose(self, name: str) -> None:
        """Play on ``name`` from now on ("" the system's default), and keep the choice."""
        playback.set_output(name)
        kept.settings().setValue(SETTINGS_KEY, name)

    def labels(self) -> list[str]:
        return [a.text() for a in self.menu.actions()]
