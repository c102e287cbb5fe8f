"""A lazy tree model of the catalogue in one of its hierarchies, fetched level by level, in pages.

The default hierarchy is genre → artist → album → song; the studio offers others (decade › year,
...). A level is fetched when the view expands its parent, `PAGE_SIZE` children at a time: a node
with more children than that fetches its next page only when the view asks (Qt's
canFetchMore/fetchMore, which QTreeView calls when the user scrolls to the end of the node).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QIcon, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from musicapp.core import Level, Use
from musicapp.studio_types import SongRow
from musicapp.ui import icons, theme
from musicapp.ui.services import CataloguePagesPort

SONG_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SONG_IDS_MIME = "application/x-musicapp-song-ids"  # newline-separated song ids, UTF-8
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
# A song row's "✓ 3:12 · 96 BPM · D" (its consent badge, length, tempo, key), and whether the
# badge is a tick; painted right-aligned in the row by SongRowDelegate.
DETAILS_ROLE = Qt.ItemDataRole.UserRole + 3
CLEARED_ROLE = Qt.ItemDataRole.UserRole + 4

_KIND_BY_DEPTH = {1: "genre", 2: "artist", 3: "album"}
DEFAULT_HIERARCHY = "genre"
PAGE_SIZE = 200

Index = QModelIndex | QPersistentModelIndex
log = logging.getLogger(__name__)
_NO_PARENT = QModelIndex()  # Qt's "no parent" default, built once


class _Node:
    """One row of the tree; `children` is None until the level below has been fetched.

    `complete` turns true once a page came back shorter than PAGE_SIZE (no more children).
    """

    __slots__ = (
        "children",
        "complete",
        "count",
        "info",
        "label",
        "parent",
        "path",
        "row",
        "song_id",
    )

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
        self.complete = bool(song_id)
        self.info: SongRow | None = None  # a song's length, tempo, key and consent badge


class CatalogTreeModel(QAbstractItemModel):
    """Asks the studio for one level of the hierarchy when the view expands a node."""

    def __init__(
        self,
        source: CataloguePagesPort,
        parent: QObject | None = None,
        hierarchy: str = DEFAULT_HIERARCHY,
        level_names: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._hierarchy = hierarchy
        self._level_names = tuple(level_names)
        self._root = _Node("", 0, (), None, None, 0)
        self._icons: dict[str, QIcon] = {}
        # Nodes that got a page in this turn of the event loop. QTreeView's layout calls
        # fetchMore in a loop while it guesses the viewport is not full (it under-guesses the
        # row height while laying out), which would drain a wide node on expand; one page per
        # node per turn keeps it to one batch until the view asks again (scrolling to the end).
        self._paged: set[int] = set()
        # The level and use the rows' consent badges answer for (the take settings' use).
        self._badge: tuple[Level, Use] = (Level.SONG, Use.PRIVATE)

    @property
    def hierarchy(self) -> str:
        return self._hierarchy

    def set_hierarchy(self, key: str, level_names: Sequence[str] = ()) -> None:
        """Show the catalogue arranged by another hierarchy (forgets everything fetched)."""
        self._hierarchy = key
        self._level_names = tuple(level_names)
        self.reload()

    def _kind(self, node: _Node) -> str:
        if node.song_id:
            return "song"
        depth = len(node.path)
        if self._hierarchy == DEFAULT_HIERARCHY:
            return _KIND_BY_DEPTH.get(depth, "group")
        if 0 < depth <= len(self._level_names):
            return self._level_names[depth - 1].lower()
        return "group"

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
        if parent.isValid() and parent.column() != 0:
            return False
        return not self._node(parent).complete

    def fetchMore(self, parent: Index) -> None:
        """Fetch the next page (PAGE_SIZE) of `parent`'s children."""
        node = self._node(parent)
        if node.complete or (node.children and id(node) in self._paged):
            return
        if not self._paged:
            QTimer.singleShot(0, self._paged.clear)
        self._paged.add(id(node))
        first = len(node.children or ())
        fetched = self._source.catalogue_children(node.path, self._hierarchy, first, PAGE_SIZE)
        node.complete = len(fetched) < PAGE_SIZE
        if node.children is None:
            node.children = []
        if not fetched:
            if parent.isValid() and first == 0:
                # The view drew an expander; tell it there is nothing behind it.
                self.dataChanged.emit(parent, parent)
            return
        added = [
            _Node(t.label, int(t.count), tuple(t.path), t.song_id, node, first + i)
            for i, t in enumerate(fetched)
        ]
        self._attach_info(added)
        self.beginInsertRows(parent, first, first + len(fetched) - 1)
        node.children.extend(added)
        self.endInsertRows()

    # -- the songs' details and consent badges -----------------------------------------------

    def _attach_info(self, nodes: Sequence[_Node]) -> None:
        ids = [n.song_id for n in nodes if n.song_id]
        if not ids:
            return
        try:
            rows = self._source.song_rows(ids, *self._badge)
        except Exception:  # the titles still show; the details are a courtesy
            log.exception("could not read the details of %d songs", len(ids))
            rows = {}
        for n in nodes:
            if n.song_id:
                n.info = rows.get(n.song_id)

    def set_badge_context(self, level: Level, use: Use) -> None:
        """Badges answer "may this song be used at ``level`` for ``use``?" from now on (the
        take settings' use or the filters changed); every fetched song is read again."""
        if (level, use) != self._badge:
            self._badge = (level, use)
            self.refresh_badges()

    def refresh_badges(self) -> None:
        """Read every fetched song's badge again (its consent may have changed)."""
        parents: list[_Node] = []
        stack = [self._root]
        while stack:
            node = stack.pop()
            kids = node.children or []
            if any(k.song_id for k in kids):
                parents.append(node)
            stack.extend(k for k in kids if not k.song_id)
        for node in parents:
            kids = node.children or []
            self._attach_info(kids)
            parent = QModelIndex() if node is self._root else self.createIndex(node.row, 0, node)
            self.dataChanged.emit(self.index(0, 0, parent), self.index(len(kids) - 1, 0, parent))

    def reload(self) -> None:
        """Forget everything fetched (e.g. after the demo catalogue was built)."""
        self.beginResetModel()
        self._root = _Node("", 0, (), None, None, 0)
        self._paged.clear()
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
        if role in (DETAILS_ROLE, CLEARED_ROLE, Qt.ItemDataRole.AccessibleDescriptionRole):
            return self._info_data(node, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return node.label if node.song_id else f"{node.label} ({node.count})"
        if role == Qt.ItemDataRole.ToolTipRole:
            if node.song_id:
                return f"{node.label}\n{self._info_words(node)}Double-click to add it to the references"
            noun = "song" if node.count == 1 else "songs"
            return f"{self._kind(node).capitalize()}: {node.label} — {node.count} {noun}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(self._kind(node))
        if role == SONG_ID_ROLE:
            return node.song_id
        if role == PATH_ROLE:
            return node.path
        return None

    def _info_words(self, node: _Node) -> str:
        if node.info is None:
            return ""
        level, use = self._badge
        verdict = "Cleared" if node.info.usable else "Not cleared"
        details = node.info.details()
        return (f"{details}\n" if details else "") + (
            f"{verdict} for {use.label} at {level.value} level\n"
        )

    def _info_data(self, node: _Node, role: int) -> Any:
        info = node.info
        if info is None:
            return None
        if role == DETAILS_ROLE:
            return f"{'✓' if info.usable else '✕'} {short_details(info)}"
        if role == CLEARED_ROLE:
            return info.usable
        return self._info_words(node).replace("\n", ", ").strip(", ")  # for screen readers

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
            icon = icons.icon(kind)
            # Levels of other hierarchies (decade, instrument, ...) have no icon of their own.
            self._icons[kind] = icon if not icon.isNull() else icons.icon("genre")
        return self._icons[kind]


class SongRowDelegate(QStyledItemDelegate):
    """Paints a song row's title, elided, and its badge and details right-aligned beside it
    (muted when cleared, the theme's red when not); other rows as usual."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        details = index.data(DETAILS_ROLE)
        if not details:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        metrics = opt.fontMetrics
        width = metrics.horizontalAdvance(details) + 8
        rect = opt.rect
        room = rect.width() - width - 24  # the icon and a gap
        text = opt.text
        if room < metrics.horizontalAdvance("Abc…"):
            width = 0  # too narrow: the title alone, the details in the tooltip
        else:
            opt.text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        if width:
            painter.save()
            selected = bool(opt.state & QStyle.StateFlag.State_Selected)
            name = "select_text" if selected else "muted" if index.data(CLEARED_ROLE) else "bad"
            painter.setPen(theme.qcolour(name))
            area = rect.adjusted(rect.width() - width, 0, -4, 0)
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(area, int(align), details)
            painter.restore()


def short_details(info: SongRow) -> str:
    """ "0:34 · 60 BPM · Bm": a row's length, tempo and key, short."""
    key = info.key.replace(" major", "").replace(" minor", "m")
    return " · ".join(
        p for p in (SongRow(info.duration_s, info.tempo_bpm, "", True).details(), key) if p
    )


def song_ids_mime(ids: Iterable[str | None]) -> QMimeData:
    """Drag data naming songs, for dropping on the references tray."""
    mime = QMimeData()
    mime.setData(SONG_IDS_MIME, "\n".join(i for i in ids if i).encode())
    return mime


def song_ids_from_mime(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(SONG_IDS_MIME):
        return []
    return [i for i in bytes(mime.data(SONG_IDS_MIME).data()).decode().split("\n") if i]
