"""Starts the desktop app: the QApplication, the style and the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from musicapp.ui import icons, theme
from musicapp.ui.main_window import MainWindow

if TYPE_CHECKING:
    from musicapp.ui.services import AppPort


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    """The running QApplication, created and styled if there is none yet."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(list(argv if argv is not None else sys.argv[:1]))
    app.setApplicationName("musicapp")
    app.setApplicationDisplayName("musicapp")
    app.setOrganizationName("musicapp")
    app.setDesktopFileName("musicapp")
    apply_style(app)
    return app


def apply_style(app: QApplication, choice: str | None = None) -> None:
    """Fusion everywhere (the same look on every platform) plus the app's theme: the saved
    choice (follow the system, light or dark) unless ``choice`` is given."""
    app.setStyle("Fusion")
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(font)
    theme.apply(app, choice or theme.saved_choice(), icons.style_sheet())
    app.setWindowIcon(icons.icon("song"))


def run_gui(context: AppPort, argv: Sequence[str] | None = None) -> int:
    """Open the main window over `context` (an AppContext) and run until it closes."""
    app = make_application(argv)
    window = MainWindow(context)
    window.show()
    return app.exec()
