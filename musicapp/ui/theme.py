"""Light and dark themes: one set of named colours each, from which the app's palette, its style
sheet (``resources/style.qss``, a template of ``$name`` placeholders) and every colour a widget
paints are taken.

The app never mixes the desktop's palette with its own colours: on a dark desktop, the system's
light text over our white tables was near-invisible. ``apply`` sets the palette *and* the style
sheet of one theme; ``colour(name)`` gives a widget the current theme's colour when it paints.
The choice (follow the system, light, dark) is kept in QSettings; ``MUSICAPP_THEME`` overrides it
(for screenshots and tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from string import Template

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from musicapp.ui import kept

SYSTEM, LIGHT, DARK = "system", "light", "dark"
CHOICES = (SYSTEM, LIGHT, DARK)
SETTINGS_KEY = "appearance/theme"


@dataclass(frozen=True)
class Theme:
    name: str
    colours: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.colours[name]


_LIGHT = {
    "window": "#f8fafc",
    "surface": "#ffffff",
    "surface_alt": "#f1f5f9",
    "pressed": "#e2e8f0",
    "border": "#e2e8f0",
    "border_strong": "#cbd5e1",
    "text": "#0f172a",
    "text_2": "#334155",
    "section": "#475569",
    "muted": "#64748b",
    "faint": "#94a3b8",
    "accent": "#4f46e5",
    "accent_hover": "#4338ca",
    "accent_soft": "#eef2ff",
    "accent_soft_2": "#e0e7ff",
    "accent_text": "#3730a3",
    "on_accent": "#ffffff",
    "select_text": "#1e1b4b",
    "accent_disabled": "#c7d2fe",
    "accent_disabled_text": "#eef2ff",
    "segment_disabled": "#a5b4fc",
    "ok": "#15803d",
    "ok_soft": "#dcfce7",
    "bad": "#b91c1c",
    "bad_text": "#7f1d1d",
    "bad_soft": "#fef2f2",
    "bad_edge": "#fca5a5",
    "warn": "#b45309",
    "warn_text": "#78350f",
    "warn_soft": "#fef3c7",
    "warn_panel": "#fffbeb",
    "warn_edge": "#fde68a",
    "info_soft": "#eef2ff",
    "info_text": "#312e81",
    "info_edge": "#c7d2fe",
    "tooltip": "#0f172a",
    "tooltip_text": "#f8fafc",
}

_DARK = {
    "window": "#0f172a",
    "surface": "#1e293b",
    "surface_alt": "#273449",
    "pressed": "#334155",
    "border": "#334155",
    "border_strong": "#475569",
    "text": "#f1f5f9",
    "text_2": "#cbd5e1",
    "section": "#94a3b8",
    "muted": "#94a3b8",
    "faint": "#64748b",
    "accent": "#4f46e5",
    "accent_hover": "#4338ca",
    "accent_soft": "#312e81",
    "accent_soft_2": "#3730a3",
    "accent_text": "#c7d2fe",
    "on_accent": "#ffffff",
    "select_text": "#eef2ff",
    "accent_disabled": "#312e81",
    "accent_disabled_text": "#818cf8",
    "segment_disabled": "#4338ca",
    "ok": "#4ade80",
    "ok_soft": "#14532d",
    "bad": "#f87171",
    "bad_text": "#fecaca",
    "bad_soft": "#3b1219",
    "bad_edge": "#7f1d1d",
    "warn": "#fbbf24",
    "warn_text": "#fde68a",
    "warn_soft": "#422006",
    "warn_panel": "#2a2110",
    "warn_edge": "#78350f",
    "info_soft": "#1e1b4b",
    "info_text": "#c7d2fe",
    "info_edge": "#3730a3",
    "tooltip": "#f1f5f9",
    "tooltip_text": "#0f172a",
}

THEMES = {LIGHT: Theme(LIGHT, _LIGHT), DARK: Theme(DARK, _DARK)}
_current: Theme = THEMES[LIGHT]


def current() -> Theme:
    return _current


def colour(name: str) -> str:
    """The current theme's colour ``name`` (a ``#rrggbb`` string)."""
    return _current[name]


def qcolour(name: str) -> QColor:
    return QColor(_current[name])


def is_dark() -> bool:
    return _current.name == DARK


def saved_choice() -> str:
    """``MUSICAPP_THEME`` if set, else the saved choice, else follow the system."""
    env = os.environ.get("MUSICAPP_THEME", "").strip().lower()
    if env in CHOICES:
        return env
    value = kept.settings().value(SETTINGS_KEY, SYSTEM)
    return value if isinstance(value, str) and value in CHOICES else SYSTEM


def save_choice(choice: str) -> None:
    if choice not in CHOICES:
        raise ValueError(f"theme: must be one of {', '.join(CHOICES)}, not {choice!r}")
    kept.settings().setValue(SETTINGS_KEY, choice)


def system_is_dark(app: QGuiApplication) -> bool:
    """The desktop's own scheme where Qt knows it, else the lightness of its window colour."""
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def resolve(choice: str, app: QGuiApplication) -> Theme:
    if choice == SYSTEM:
        return THEMES[DARK if system_is_dark(app) else LIGHT]
    return THEMES[choice]


def palette(theme: Theme) -> QPalette:
    """A whole palette of ``theme``, so that no text colour comes from the desktop."""
    p = QPalette()
    c = {k: QColor(v) for k, v in theme.colours.items()}
    role = QPalette.ColorRole
    for r, name in (
        (role.Window, "window"),
        (role.WindowText, "text"),
        (role.Base, "surface"),
        (role.AlternateBase, "surface_alt"),
        (role.Text, "text"),
        (role.Button, "surface"),
        (role.ButtonText, "text"),
        (role.BrightText, "on_accent"),
        (role.Highlight, "accent_soft_2"),
        (role.HighlightedText, "select_text"),
        (role.ToolTipBase, "tooltip"),
        (role.ToolTipText, "tooltip_text"),
        (role.PlaceholderText, "faint"),
        (role.Link, "accent"),
        (role.Mid, "border_strong"),
        (role.Midlight, "border"),
        (role.Light, "surface"),
        (role.Dark, "border_strong"),
        (role.Shadow, "text"),
    ):
        p.setColor(r, c[name])
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(disabled, r, c["faint"])
    return p


def style_sheet(theme: Theme, template: str) -> str:
    """The style sheet template with ``theme``'s colours (``$name``) filled in."""
    return Template(template).substitute(theme.colours)


def apply(app: QApplication, choice: str, template: str) -> Theme:
    """Make ``choice`` (system, light or dark) the app's theme: palette and style sheet."""
    global _current
    theme = resolve(choice, app)
    _current = theme
    app.setPalette(palette(theme))
    app.setStyleSheet(style_sheet(theme, template))
    return theme
