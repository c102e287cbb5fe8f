"""The first run: what to start with, asked rather than assumed (issue 19: "the demo build
starts unasked; no choice to import your own music or connect a server").

Shown when the catalogue is empty and no demo build is waiting to be finished: the demo
catalogue, your own music (then the rights wizard), a rights server (the Sync settings), or an
empty catalogue. ``MUSICAPP_FIRST_RUN`` (demo, import, server, empty) answers it for scripts;
``musicapp demo`` sets it to demo.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QCommandLinkButton, QDialog, QLabel, QVBoxLayout, QWidget

DEMO, IMPORT, SERVER, EMPTY = "demo", "import", "server", "empty"
CHOICES = (DEMO, IMPORT, SERVER, EMPTY)
ENV = "MUSICAPP_FIRST_RUN"


class FirstRunDialog(QDialog):
    """Four doors; ``choice`` is the one taken (EMPTY when the dialog is closed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("Welcome to musicapp")
        self.choice = EMPTY
        intro = QLabel(
            "<h3>What would you like to start with?</h3>musicapp makes new music from songs "
            "whose rights holders agreed to it, on this computer, and records who contributed "
            "so they are paid. You can add more later from the File and Tools menus."
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        self.buttons: dict[str, QCommandLinkButton] = {}
        for choice, title, words in (
            (
                DEMO,
                "Try the demo catalogue",
                "64 public-domain tunes rendered here, with made-up rights holders and every "
                "kind of consent. A few minutes; you can look around while it builds.",
            ),
            (
                IMPORT,
                "Import my own music…",
                "A folder of your recordings (and a manifest, if you have one). You then "
                "declare yourself their rights holder and can use them at once.",
            ),
            (
                SERVER,
                "Connect to a rights server…",
                "Your label's or collective's registry: its consent, prices and payouts.",
            ),
            (EMPTY, "Start with an empty catalogue", "Nothing is added now."),
        ):
            button = QCommandLinkButton(title, words)
            button.setAccessibleName(title)
            button.clicked.connect(lambda _c=False, c=choice: self._take(c))
            layout.addWidget(button)
            self.buttons[choice] = button
        self.setMinimumWidth(520)

    def _take(self, choice: str) -> None:
        self.choice = choice
        self.accept()


def ask_first_run(parent: QWidget) -> str:
    """The user's choice (one of CHOICES): ``MUSICAPP_FIRST_RUN`` if set, else the dialog."""
    preset = os.environ.get(ENV, "").strip().lower()
    if preset in CHOICES:
        return preset
    dialog = FirstRunDialog(parent)
    try:
        dialog.exec()
        return dialog.choice
    finally:
        dialog.deleteLater()
