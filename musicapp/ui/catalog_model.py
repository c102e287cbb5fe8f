"""A lazy tree model of the catalogue (genre → artist → album → song), fetched level by level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from PySide6.QtCore import QAbstractItemModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

from musicapp.ui import icons

SONG_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SONG_IDS_MIME = "application/x-musicapp-song-ids"  # newline-separated song ids, UTF-8
PATH_ROLE = Qt.ItemDataRole.UserRole + 2

_KIND_BY_DEPTH = {1: "genre", 2: "artist", 3: "album"}

Index = QModelIndex | QPersistentModelIndex
_NO_PARENT = QModelIndex()  # Qt's "no parent" default, built once


class CatalogueSource(Protocol):
    """The part of the studio this model reads."""

    def catalogue_children(self, path: tuple[str, ...]) -> list[Any]: ...


class _Node:
    """One row of the tree; `children` is None until the level below has been fetched."""

    __slots__ = ("children", "count", "label", "parent", "path", "row", "song_id")

    def __init__(
        self,
        label: str,
        count: int,
        path: tuple[str, ...],
        song_id: str | None,
        parent: _Node | None,
        row: int,
    ) -> None:
        self.label = label
        self.count = count
        self.path = path
        self.song_id = song_id
        self.parent = parent
        self.row = row
        self.children: list[_Node] | None = [] if song_id else None

    @property
    def kind(self) -> str:
        return "song" if self.song_id else _KIND_BY_DEPTH.get(len(self.path), "group")


class CatalogTreeModel(QAbstractItemModel):
    """Asks the studio for one level of the hierarchy when the view expands a node."""

    def __init__(self, source: CatalogueSource, parent: Any = None) -> None:
        super().__init__(parent)
        self._source = source
        self._root = _Node("", 0, (), None, None, 0)
        self._icons: dict[str, QIcon] = {}

    # -- structure -------------------------------------------------------------------------

    def _node(self, index: Index) -> _Node:
        if index.isValid():
            node = index.internalPointer()
            assert isinstance(node, _Node)
            return node
        return self._root

    def index(self, row: int, column: int, parent: Index = _NO_PARENT) -> QModelIndex:
        node = self._node(parent)
        if column != 0 or node.children is None or not 0 <= row < len(node.children):
            return QModelIndex()
        return self.createIndex(row, 0, node.children[row])

    def parent(self, index: Index = _NO_PARENT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = self._node(index).parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        children = self._node(parent).children
        return len(children) if children is not None else 0

    def columnCount(self, parent: Index = _NO_PARENT) -> int:
        return 1

    def hasChildren(self, parent: Index = _NO_PARENT) -> bool:
        node = self._node(parent)
        if node.song_id:
            return False
        # Unfetched groups report children so the view draws an expander without asking.
        return node.children is None or bool(node.children)

    def canFetchMore(self, parent: Index) -> bool:
        node = self._node(parent)
        return node.children is None

    def fetchMore(self, parent: Index) -> None:
        node = self._node(parent)
        if node.children is not None:
            return
        fetched = self._source.catalogue_children(node.path)
        node.children = []
        if not fetched:
            if parent.isValid():  # the view drew an expander; tell it there is nothing behind it
                self.dataChanged.emit(parent, parent)
            return
        self.beginInsertRows(parent, 0, len(fetched) - 1)
        node.children = [
            _Node(t.label, int(t.count), tuple(t.path), t.song_id, node, i)
            for i, t in enumerate(fetched)
        ]
        self.endInsertRows()

    def reload(self) -> None:
        """Forget everything fetched (e.g. after the demo catalogue was built)."""
        self.beginResetModel()
        self._root = _Node("", 0, (), None, None, 0)
        self.endResetModel()

    def is_fetched(self, path: tuple[str, ...]) -> bool:
        """Whether the level under `path` has been asked for (for tests and diagnostics)."""
        node: _Node | None = self._root
        for depth in range(1, len(path) + 1):
            if node is None or node.children is None:
                return False
            node = next((c for c in node.children if c.path == path[:depth]), None)
        return node is not None and node.children is not None

    # -- data ------------------------------------------------------------------------------

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        if role == Qt.ItemDataRole.DisplayRole:
            return node.label if node.song_id else f"{node.label} ({node.count})"
        if role == Qt.ItemDataRole.ToolTipRole:
            if node.song_id:
                return f"{node.label}\nDouble-click to add it to the references"
            noun = "song" if node.count == 1 else "songs"
            return f"{node.kind.capitalize()}: {node.label} — {node.count} {noun}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(node.kind)
        if role == SONG_ID_ROLE:
            return node.song_id
        if role == PATH_ROLE:
            return node.path
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._node(index).song_id:
            flags |= Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def mimeTypes(self) -> list[str]:
        return [SONG_IDS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        return song_ids_mime(i.data(SONG_ID_ROLE) for i in indexes)

    def _icon(self, kind: str) -> QIcon:
        if kind not in self._icons:
            self._icons[kind] = icons.icon(kind)
        return self._icons[kind]


def song_ids_mime(ids: Any) -> QMimeData:
    """Drag data naming songs, for dropping on the references tray."""
    mime = QMimeData()
    mime.setData(SONG_IDS_MIME, "\n".join(i for i in ids if i).encode())
    return mime


def song_ids_from_mime(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(SONG_IDS_MIME):
        return []
    return [i for i in bytes(mime.data(SONG_IDS_MIME).data()).decode().split("\n") if i]
