"""A list model of search results: one song per row, title over artist and album."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from musicapp.core import Song
from musicapp.ui import icons
from musicapp.ui.catalog_model import SONG_ID_ROLE, SONG_IDS_MIME, song_ids_mime

Index = QModelIndex | QPersistentModelIndex
_NO_PARENT = QModelIndex()  # Qt's "no parent" default, built once


def song_subtitle(song: Song) -> str:
    """Artist · album · genre (year), skipping what the catalogue does not know."""
    parts = [song.artist, song.album, song.genre]
    if song.year:
        parts.append(str(song.year))
    return " · ".join(p for p in parts if p)


class SearchResultsModel(QAbstractListModel):
    """Holds the songs of the latest search."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._songs: list[Song] = []
        self._icon = icons.icon("song")

    def set_songs(self, songs: Sequence[Song]) -> None:
        self.beginResetModel()
        self._songs = list(songs)
        self.endResetModel()

    def song_at(self, row: int) -> Song | None:
        return self._songs[row] if 0 <= row < len(self._songs) else None

    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._songs)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        song = self.song_at(index.row()) if index.isValid() else None
        if song is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            # The delegate turns the newline into a line break: a two-line item.
            return f"{song.title}\n{song_subtitle(song)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            holders = ", ".join(h.name for h in song.holders) or "unknown"
            return f"{song.describe()}\nRights holders: {holders}\nDouble-click to add"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon
        if role == SONG_ID_ROLE:
            return song.id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def mimeTypes(self) -> list[str]:
        return [SONG_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        return song_ids_mime(i.data(SONG_ID_ROLE) for i in indexes)
