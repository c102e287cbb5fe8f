"""Small labels the panels share: the centred, wrapped placeholder text of an empty pane."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def placeholder_label(text: str = "") -> QLabel:
    """Grey centred text for a pane with nothing to show yet (styled as #placeholder)."""
    label = QLabel(text)
    label.setObjectName("placeholder")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label
