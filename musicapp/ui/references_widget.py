"""The references tray: the songs the user picked, each with its level, role and weight."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import Level, Reference, Role, Song
from musicapp.ui import icons
from musicapp.ui.catalog_model import SONG_IDS_MIME, song_ids_from_mime
from musicapp.ui.search_model import song_subtitle

# The tray offers the two levels of paper §4.1.1 that need no audio of the user's own.
LEVELS = (Level.SONG, Level.PARAMETER)
LEVEL_LABELS = {Level.SONG: "Whole song", Level.PARAMETER: "Parameter"}
COLUMNS = ("Song", "Level", "Role", "Weight", "")
COL_SONG, COL_LEVEL, COL_ROLE, COL_WEIGHT, COL_REMOVE = range(len(COLUMNS))
MIN_WEIGHT = 0.05
MAX_WEIGHT = 10.0


@dataclass
class _Row:
    song: Song
    level: QComboBox
    role: QComboBox
    weight: QDoubleSpinBox
    remove: QToolButton

    def reference(self) -> Reference:
        level = self.level_value()
        role = Role(self.role.currentData()) if level is Level.PARAMETER else None
        return Reference(self.song.id, level, role, None, float(self.weight.value()))

    def level_value(self) -> Level:
        # Items hold the enum's plain value: Qt hands a str subclass back as a plain str.
        return Level(self.level.currentData())


class ReferencesWidget(QWidget):
    """Edits the list of references; emits `changed` after every edit.

    Songs dragged from the catalogue or the search results and dropped here are offered through
    `songs_dropped`; the window decides whether to add them.
    """

    changed = Signal()
    songs_dropped = Signal(list)  # song ids

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._editable = True

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("referencesTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(44)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_SONG, QHeaderView.ResizeMode.Stretch)
        for col, width in ((COL_LEVEL, 108), (COL_ROLE, 100), (COL_WEIGHT, 72), (COL_REMOVE, 32)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        self.placeholder = QLabel(
            "No references yet.\nDouble-click a song in the catalogue, or select it and press "
            "“Add to references”."
        )
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(self.table)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        for target in (self.table.viewport(), self.placeholder):
            target.setAcceptDrops(True)
            target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(
            event, QDragEnterEvent | QDropEvent
        ):
            if event.mimeData().hasFormat(SONG_IDS_MIME) and self._editable:
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            ids = song_ids_from_mime(event.mimeData())
            if ids and self._editable:
                event.acceptProposedAction()
                self.songs_dropped.emit(ids)
                return True
        return super().eventFilter(watched, event)

    # -- reading ---------------------------------------------------------------------------

    def references(self) -> tuple[Reference, ...]:
        return tuple(row.reference() for row in self._rows)

    def songs(self) -> dict[str, Song]:
        return {row.song.id: row.song for row in self._rows}

    def count(self) -> int:
        return len(self._rows)

    # -- editing ---------------------------------------------------------------------------

    def add_song(self, song: Song, weight: float = 1.0) -> None:
        """Append `song` as a whole-song reference."""
        r = self.table.rowCount()
        self.table.insertRow(r)
        item = QTableWidgetItem(f"{song.title}\n{song.artist}")
        item.setToolTip(f"{song.title}\n{song_subtitle(song)}")
        item.setForeground(self.palette().text())
        item.setData(Qt.ItemDataRole.UserRole, song.id)
        self.table.setItem(r, COL_SONG, item)

        level = QComboBox()
        for lv in LEVELS:
            level.addItem(LEVEL_LABELS[lv], lv.value)
        level.setToolTip("Use the whole song, or one parameter of it (melody, rhythm, …)")
        role = QComboBox()
        for rl in Role:
            role.addItem(rl.value.capitalize(), rl.value)
        role.setPlaceholderText("—")
        role.setCurrentIndex(-1)
        role.setEnabled(False)
        role.setToolTip("Which parameter of the song to use (parameter level only)")
        spin = QDoubleSpinBox()
        spin.setRange(MIN_WEIGHT, MAX_WEIGHT)
        spin.setSingleStep(0.25)
        spin.setDecimals(2)
        spin.setValue(weight)
        spin.setToolTip("How much this reference counts, relative to the others")
        remove = QToolButton()
        remove.setIcon(icons.icon("remove"))
        remove.setAutoRaise(True)
        remove.setToolTip(f"Remove “{song.title}” from the references")
        remove.setObjectName("removeButton")

        row = _Row(song, level, role, spin, remove)
        self._rows.append(row)
        self.table.setCellWidget(r, COL_LEVEL, level)
        self.table.setCellWidget(r, COL_ROLE, role)
        self.table.setCellWidget(r, COL_WEIGHT, spin)
        self.table.setCellWidget(r, COL_REMOVE, remove)

        level.currentIndexChanged.connect(lambda _i, row=row: self._on_level(row))
        role.currentIndexChanged.connect(lambda _i: self.changed.emit())
        spin.valueChanged.connect(lambda _v: self.changed.emit())
        remove.clicked.connect(lambda _c=False, row=row: self.remove_row(self._rows.index(row)))
        self.pages.setCurrentWidget(self.table)
        self.changed.emit()

    def set_level(self, row: int, level: Level, role: Role | None = None) -> None:
        r = self._rows[row]
        r.level.setCurrentIndex(r.level.findData(level.value))
        if role is not None:
            r.role.setCurrentIndex(r.role.findData(role.value))

    def set_weight(self, row: int, weight: float) -> None:
        self._rows[row].weight.setValue(weight)

    def remove_row(self, row: int) -> None:
        del self._rows[row]
        self.table.removeRow(row)
        if not self._rows:
            self.pages.setCurrentWidget(self.placeholder)
        self.changed.emit()

    def clear(self) -> None:
        self._rows.clear()
        self.table.setRowCount(0)
        self.pages.setCurrentWidget(self.placeholder)
        self.changed.emit()

    def _on_level(self, row: _Row) -> None:
        parameter = row.level_value() is Level.PARAMETER
        row.role.blockSignals(True)
        if parameter and row.role.currentIndex() < 0:
            row.role.setCurrentIndex(0)
        elif not parameter:
            row.role.setCurrentIndex(-1)
        row.role.blockSignals(False)
        row.role.setEnabled(parameter and self._editable)
        self.changed.emit()

    def set_editable(self, editable: bool) -> None:
        """Freeze the tray while a generation runs, so the take matches what is shown."""
        self._editable = editable
        for row in self._rows:
            for w in (row.level, row.weight, row.remove):
                w.setEnabled(editable)
            row.role.setEnabled(editable and row.level_value() is Level.PARAMETER)
