"""The window's start: resume a demo build cut short, or ask what to start with when the
catalogue is empty (``first_run.py``); and your own music's rights (Tools → Declare my rights…,
``rights_wizard.py``), offered after an import that brought songs nobody holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction

from musicapp.ui import first_run
from musicapp.ui.rights_wizard import RightsWizard

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow


class Onboarding(QObject):
    """Owns ``rights_action`` (for the Tools menu) and the rights wizard."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.wizard: RightsWizard | None = None
        self.rights_action = QAction("&Declare my rights…", window)
        self.rights_action.setToolTip(
            "Make yourself the rights holder of your own imported songs, so you can use them"
        )
        self.rights_action.triggered.connect(lambda: self.open_wizard())

    def start(self) -> bool:
        """At the window's start: True when it took charge of filling the catalogue."""
        library = self._window.studio.library
        unfinished = library.demo_unfinished()
        job = library.resume_demo_job() if unfinished is not None else None
        if unfinished is not None and job is not None:
            have, wanted = unfinished
            self._window.build_demo_catalogue(job)
            self._window.show_status(
                f"Finishing the demo catalogue: {have} of {wanted} songs were built before"
            )
            return True
        if library.is_empty():
            QTimer.singleShot(0, self.ask)
            return True
        return False

    def ask(self) -> str:
        """The first-run choice, then what it starts; the choice."""
        window = self._window
        choice = first_run.ask_first_run(window)
        if choice == first_run.DEMO:
            window.build_demo_catalogue()
        elif choice == first_run.IMPORT:
            dialog = window.open_import_dialog()
            dialog.finished.connect(lambda _r: self.offer_wizard())
        elif choice == first_run.SERVER:
            if window.sync.open_settings() is None:
                window.show_status("Sync is unavailable here: no rights server can be set")
        else:
            window.show_status("An empty catalogue: File → Import music… adds your own")
        return choice

    def offer_wizard(self) -> RightsWizard | None:
        """The rights wizard when the catalogue holds songs nobody holds."""
        if not self._window.studio.library.unclaimed():
            return None
        return self.open_wizard()

    def open_wizard(self) -> RightsWizard:
        window = self._window
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            return self.wizard
        wizard = RightsWizard(window.studio.library, window)
        wizard.declared.connect(self._on_declared)
        self.wizard = wizard
        wizard.open()
        return wizard

    def _on_declared(self, count: int) -> None:
        window = self._window
        window.browser.catalogue_changed()
        window.refresh_check()
        window.show_status(f"{count} song(s) are now yours: usable for private use at once")
        sync = getattr(window, "sync", None)
        if window.studio.library.claims_server() and sync is not None:
            sync.sync_now()  # the claims go to the server now, not at the next background sync
