"""Connects verifying files (``studio.records``) to the window: File → Verify… and audio files
dropped on the window each open a Verify window.

The window accepts drops of files only where no panel takes the drag itself: the references
tray keeps taking catalogue songs dragged from the browser, and a drag of songs never reaches
here (it carries no files). A drop with no audio file in it is refused with a line in the
status bar, and nothing opens.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog

from musicapp.ui.verify_window import VerifyWindow

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

# What musicapp exports, and so what carries a record to verify.
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3")
AUDIO_FILTER = "Audio files (*.wav *.flac *.mp3);;All files (*)"
CASCADE_PX = 28  # each new Verify window a little lower and to the right of the last


def _local_files(urls: Iterable[QUrl]) -> list[Path]:
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]


class VerifyWiring(QObject):
    """Owns `action` (for the File menu), the drop on the window, and the open Verify windows
    (`windows`, one per file verified, each closed on its own)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.windows: list[VerifyWindow] = []
        action = QAction("&Verify…", window)
        action.setShortcut(QKeySequence("Ctrl+Shift+V"))
        action.setToolTip(
            "Check an audio file's chain of evidence: its record, signature, ledger event, "
            "receipt and consent (or drop files on the window)"
        )
        action.triggered.connect(lambda: self.choose_and_verify())
        self.action = action
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def choose_and_verify(self) -> VerifyWindow | None:
        """File → Verify…: ask for a file and open its Verify window."""
        text, _filter = QFileDialog.getOpenFileName(
            self._window, "Verify an audio file", "", AUDIO_FILTER
        )
        return self.open_verify(Path(text)) if text else None

    def open_verify(self, path: Path) -> VerifyWindow:
        """A new Verify window on `path`, already checking it."""
        window = self._window
        view = VerifyWindow(window.studio.records, window.runner, path, window)
        view.status.connect(window.show_status)
        view.closed.connect(lambda: self._forget(view))
        offset = CASCADE_PX * (len(self.windows) % 8)
        view.move(window.geometry().topLeft() + QPoint(80 + offset, 60 + offset))
        self.windows.append(view)
        view.show()
        view.raise_()
        view.start()
        return view

    def _forget(self, view: VerifyWindow) -> None:
        if view in self.windows:
            self.windows.remove(view)
        view.deleteLater()

    # -- dropping files ----------------------------------------------------------------------

    def drop_files(self, paths: list[Path]) -> list[VerifyWindow]:
        """Open a Verify window for each audio file in `paths`; say which were not audio."""
        audio = [p for p in paths if p.suffix.lower() in AUDIO_SUFFIXES and not p.is_dir()]
        others = [p for p in paths if p not in audio]
        if not audio:
            names = ", ".join(p.name for p in others[:3]) + ("…" if len(others) > 3 else "")
            self._window.show_status(
                f"Not an audio file: {names}. Drop a WAV, FLAC or MP3 file to verify it."
            )
            return []
        opened = [self.open_verify(p) for p in audio]
        if others:  # said after the windows' own "Verifying…", so that it is seen
            self._window.show_status(
                f"Verifying {len(audio)} file(s); skipped {len(others)} that are not "
                "WAV, FLAC or MP3"
            )
        return opened

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is not self._window:
            return False
        if isinstance(event, QDragEnterEvent | QDragMoveEvent) and event.type() in (
            QEvent.Type.DragEnter,
            QEvent.Type.DragMove,
        ):
            if _local_files(event.mimeData().urls()):  # audio or not: a refusal is said on drop
                event.acceptProposedAction()
                return True
        elif isinstance(event, QDropEvent) and event.type() == QEvent.Type.Drop:
            paths = _local_files(event.mimeData().urls())
            if paths:
                event.acceptProposedAction()
                self.drop_files(paths)
                return True
        return False
