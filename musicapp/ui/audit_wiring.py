"""Connects the audit (``studio.audit``) to the window: File → Audit a file…, and the choice the
user makes when the audit finds undeclared catalogue material in their own audio.

The window keeps its composition; what happens after a generation fails with
``UndeclaredMaterial`` lives here: the dialog names what was found, and "Add as reference" or
"Override (logged)" re-runs the very request that was refused with that choice. The choice goes
into that one request only; the window's next request says "refuse" again.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from musicapp.studio_types import UndeclaredMaterial
from musicapp.ui import audit_text as words
from musicapp.ui.audit_file_dialog import AuditFileDialog
from musicapp.ui.undeclared_dialog import REFUSE, UndeclaredDialog

if TYPE_CHECKING:
    from musicapp.core import GenerationRequest
    from musicapp.ui.main_window import MainWindow

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3 *.aiff *.aif);;All files (*)"


class AuditWiring(QObject):
    """Owns `file_action` (for the File menu), the Audit a file window and the undeclared
    material dialog."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.file_dialog: AuditFileDialog | None = None
        self.undeclared_dialog: UndeclaredDialog | None = None
        action = QAction("&Audit a file…", window)
        action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        action.setToolTip("Find which catalogue songs are in an audio file, from its audio alone")
        action.triggered.connect(lambda: self.open_audit_file())
        self.file_action = action

    def name_of(self, song_id: str) -> str:
        try:
            song = self._window.studio.song(song_id)
        except Exception:  # a name is a courtesy: the id still says which song
            song = None
        return words.song_name(song, song_id)

    # -- File → Audit a file… --------------------------------------------------------------

    def open_audit_file(self, path: Path | None = None) -> AuditFileDialog | None:
        """Ask for a file (unless `path` is given) and audit it in the Audit a file window."""
        window = self._window
        dialog = self.file_dialog
        if dialog is not None and dialog.busy:
            dialog.show()
            dialog.raise_()
            window.show_status("An audit is running: wait for it or cancel it first")
            return dialog
        if path is None:
            text, _filter = QFileDialog.getOpenFileName(window, "Audit a file", "", AUDIO_FILTER)
            if not text:
                return None
            path = Path(text)
        if dialog is None:
            dialog = AuditFileDialog(window.studio.audit, window.runner, self.name_of, window)
            dialog.status.connect(window.show_status)
            self.file_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.start(path)
        return dialog

    # -- undeclared material -----------------------------------------------------------------

    def offer_choice(self, exc: BaseException, request: GenerationRequest | None) -> bool:
        """If `exc` is UndeclaredMaterial, ask the user what to do with `request` (the one that
        was refused) and return True; otherwise False (the window reports `exc` itself)."""
        if not isinstance(exc, UndeclaredMaterial) or request is None:
            return False
        window = self._window
        if self.undeclared_dialog is not None:
            self.undeclared_dialog.deleteLater()
        name = Path(request.user_audio).name if request.user_audio else ""
        dialog = UndeclaredDialog(exc.findings, exc.titles, name, exc.event_id, window)
        dialog.chosen.connect(lambda choice: self._on_choice(choice, request))
        self.undeclared_dialog = dialog
        window.show_status("Nothing made yet: your audio holds undeclared catalogue recordings")
        dialog.open()
        return True

    def _on_choice(self, choice: str, request: GenerationRequest) -> None:
        window = self._window
        if choice == REFUSE:
            window.show_status("Nothing made: your audio holds undeclared catalogue recordings")
            return
        window.start_generation(replace(request, on_undeclared=choice))
