"""Where the window keeps the user's choices between sessions (theme, docks and panel widths,
export options, audio output, snap to bars, the name as rights holder): one INI file per user,
QSettings' own place for "musicapp/musicapp" (tests point it at a folder of their own)."""

from __future__ import annotations

from PySide6.QtCore import QSettings


def settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "musicapp", "musicapp")
