"""Non-blocking error messages: the window stays usable while one is shown."""

from __future__ import annotations

import traceback

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(
    parent: QWidget | None, title: str, text: str, exc: BaseException | None = None
) -> QMessageBox:
    """Open a window-modal message box and return at once (it deletes itself when closed)."""
    box = QMessageBox(parent)
    box.setObjectName("errorBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(text)
    if exc is not None:
        box.setInformativeText(str(exc) or type(exc).__name__)
        box.setDetailedText("".join(traceback.format_exception(exc)))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
