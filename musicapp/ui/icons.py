"""Loads the app's icons and style sheet from musicapp/resources (resources/ in the repository)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon

# Installed (wheel, frozen app) the files sit in the package; from a checkout (editable install,
# PYTHONPATH) they are the repository's top-level resources/, which pyproject maps there.
_PACKAGED = resources.files("musicapp") / "resources"
_RESOURCES = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """A file shipped under musicapp/resources (a real path: the app runs from files)."""
    return Path(str(_RESOURCES.joinpath(*parts)))


@cache
def icon(name: str) -> QIcon:
    """The icon `name` from resources/icons, or an empty icon if it is missing."""
    path = resource_path("icons", f"{name}.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()


def style_sheet() -> str:
    """The app's Qt style sheet, or "" if it is missing."""
    path = resource_path("style.qss")
    return path.read_text(encoding="utf-8") if path.is_file() else ""
