"""The references tray: the songs the user picked, each with its level, role or range, and weight."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHeaderView,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import InvalidInput, Level, Reference, Role, Song, TimeRange
from musicapp.ui import icons, theme
from musicapp.ui.catalog_model import SONG_IDS_MIME, song_ids_from_mime
from musicapp.ui.labels import placeholder_label
from musicapp.ui.range_widget import range_text
from musicapp.ui.search_model import song_subtitle

# The four levels of paper §4.1.1; audio and temporal ones reshape audio of the user's own.
LEVELS = (Level.SONG, Level.PARAMETER, Level.AUDIO, Level.TEMPORAL)
LEVEL_LABELS = {
    Level.SONG: "Whole song",
    Level.PARAMETER: "Parameter",
    Level.AUDIO: "Audio",
    Level.TEMPORAL: "Temporal",
}
LEVEL_TIPS = {
    Level.SONG: "The whole song shapes the take",
    Level.PARAMETER: "One parameter of the song (melody, rhythm, timbre, …)",
    Level.AUDIO: "The song's material or tone re-renders your own audio",
    Level.TEMPORAL: "A range of the song regenerates a range of your own audio",
}
COLUMNS = ("Song", "Level", "Role / range", "Weight", "")
COL_SONG, COL_LEVEL, COL_ROLE, COL_WEIGHT, COL_REMOVE = range(len(COLUMNS))
REFUSED_MARK = "✗ "
MIN_WEIGHT = 0.05
MAX_WEIGHT = 10.0


@dataclass
class _Row:
    song: Song
    level: QComboBox
    role: QComboBox
    weight: QDoubleSpinBox
    remove: QToolButton
    detail: QStackedWidget  # the role picker, or the range button for a temporal reference
    range_button: QPushButton
    time_range: TimeRange | None = field(default=None)

    def reference(self) -> Reference:
        level = self.level_value()
        role = Role(self.role.currentData()) if level is Level.PARAMETER else None
        time_range = self.time_range if level is Level.TEMPORAL else None
        if level is Level.TEMPORAL and time_range is None:
            raise InvalidInput(
                f"“{self.song.title}”: choose the range of the song a temporal reference uses "
                "(Range… in its row)"
            )
        return Reference(self.song.id, level, role, time_range, float(self.weight.value()))

    def level_value(self) -> Level:
        # Items hold the enum's plain value: Qt hands a str subclass back as a plain str.
        return Level(self.level.currentData())


class ReferencesWidget(QWidget):
    """Edits the list of references; emits `changed` after every edit.

    Songs dragged from the catalogue or the search results and dropped here are offered through
    `songs_dropped`; the window decides whether to add them.
    """

    changed = Signal()
    selected = Signal(int)  # the selected row (the Similar pane follows it), -1 for none
    songs_dropped = Signal(list)  # song ids
    range_requested = Signal(int)  # row: the user wants to pick a temporal reference's range

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self.refused_rows: list[int] = []  # rows the last consent check refused
        self._editable = True

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("referencesTable")
        # Tab leaves the table for the next control (each row's level, weight and remove are
        # in the window's reading order): moving from cell to cell trapped the keyboard here.
        self.table.setTabKeyNavigation(False)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        # One row may be selected: the Similar pane shows the songs nearest to it.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # A Tab stop: arrows then pick the row (and the Similar pane follows it).
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(44)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_SONG, QHeaderView.ResizeMode.Stretch)
        for col, width in ((COL_LEVEL, 108), (COL_ROLE, 112), (COL_WEIGHT, 72), (COL_REMOVE, 32)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        self.placeholder = placeholder_label(
            "No references yet.\nDouble-click a song in the catalogue, or select it and press "
            "“Add to references”."
        )

        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(self.table)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        self.table.itemSelectionChanged.connect(lambda: self.selected.emit(self.selected_row()))
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

    def levels(self) -> set[Level]:
        """The levels in use (readable even while a temporal reference still lacks its range)."""
        return {row.level_value() for row in self._rows}

    def count(self) -> int:
        return len(self._rows)

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def level_at(self, row: int) -> Level:
        return self._rows[row].level_value()

    @property
    def editable(self) -> bool:
        return self._editable

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
        for i, lv in enumerate(LEVELS):
            level.setItemData(i, LEVEL_TIPS[lv], Qt.ItemDataRole.ToolTipRole)
        level.setToolTip("How this song is used: whole, one parameter, or on your own audio")
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
        remove.setAccessibleName(f"Remove “{song.title}”")

        range_button = QPushButton("Range…")
        range_button.setObjectName("rangeButton")
        range_button.setToolTip(f"Choose the part of “{song.title}” to take material from")
        detail = QStackedWidget()
        detail.addWidget(role)
        detail.addWidget(range_button)

        row = _Row(song, level, role, spin, remove, detail, range_button)
        self._rows.append(row)
        self.table.setCellWidget(r, COL_LEVEL, level)
        self.table.setCellWidget(r, COL_ROLE, detail)
        self.table.setCellWidget(r, COL_WEIGHT, spin)
        self.table.setCellWidget(r, COL_REMOVE, remove)
        # Tab goes through the rows in order, right after the table: a row added later would
        # otherwise join the window's tab order at its very end, after the take.
        before: QWidget = self._rows[-2].remove if len(self._rows) > 1 else self.table
        order = (before, level, role, range_button, spin, remove)
        for a, b in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(a, b)

        level.currentIndexChanged.connect(lambda _i, row=row: self._on_level(row))
        # Only a user's choice (not set_level) opens the range dialog straight away.
        level.activated.connect(lambda _i, row=row: self._maybe_ask_range(row))
        range_button.clicked.connect(
            lambda _c=False, row=row: self.range_requested.emit(self._rows.index(row))
        )
        role.currentIndexChanged.connect(lambda _i: self.changed.emit())
        spin.valueChanged.connect(lambda _v: self.changed.emit())
        remove.clicked.connect(lambda _c=False, row=row: self.remove_row(self._rows.index(row)))
        self.pages.setCurrentWidget(self.table)
        self.changed.emit()

    def add_reference(self, song: Song, reference: Reference) -> None:
        """Append `song` used as `reference` says (level, role, range and weight): an accepted
        proposal."""
        self.add_song(song, reference.weight)
        row = len(self._rows) - 1
        self.set_level(row, reference.level, reference.role)
        if reference.time_range is not None:
            self.set_time_range(row, reference.time_range)

    def show_verdicts(self, refused: Mapping[int, str]) -> None:
        """Mark the rows the consent check refused (row → the reasons, in words): a cross and
        red text, the reasons in the tooltip; every other row back to plain."""
        for i, row in enumerate(self._rows):
            item = self.table.item(i, COL_SONG)
            if item is None:
                continue
            reason = refused.get(i)
            text = f"{row.song.title}\n{row.song.artist}"
            tip = f"{row.song.title}\n{song_subtitle(row.song)}"
            if reason:
                item.setText(f"{REFUSED_MARK}{text}")
                item.setForeground(QColor(theme.colour("bad")))
                item.setToolTip(f"Refused: {reason}\n\n{tip}")
            else:
                item.setText(text)
                item.setForeground(self.palette().text())
                item.setToolTip(tip)
        self.refused_rows = sorted(refused)

    def replace_song(self, row: int, song: Song) -> None:
        """Use `song` in `row` instead, keeping its level, role and weight (a Swap); a range
        that does not fit in the new song is cleared, so the row asks for one again."""
        r = self._rows[row]
        r.song = song
        item = self.table.item(row, COL_SONG)
        if item is not None:
            item.setText(f"{song.title}\n{song.artist}")
            item.setToolTip(f"{song.title}\n{song_subtitle(song)}")
            item.setData(Qt.ItemDataRole.UserRole, song.id)
        r.remove.setToolTip(f"Remove “{song.title}” from the references")
        r.range_button.setToolTip(f"Choose the part of “{song.title}” to take material from")
        fits = r.time_range is None or not song.duration_s or r.time_range.end_s <= song.duration_s
        if not fits:
            self.set_time_range(row, None)
        else:
            self.changed.emit()
        if row == self.selected_row():
            self.selected.emit(row)

    def set_level(self, row: int, level: Level, role: Role | None = None) -> None:
        r = self._rows[row]
        r.level.setCurrentIndex(r.level.findData(level.value))
        if role is not None:
            r.role.setCurrentIndex(r.role.findData(role.value))

    def set_time_range(self, row: int, time_range: TimeRange | None) -> None:
        """The range of the song a temporal reference uses, shown on its Range button."""
        r = self._rows[row]
        r.time_range = time_range
        r.range_button.setText(range_text(time_range) or "Range…")
        self.changed.emit()

    def time_range(self, row: int) -> TimeRange | None:
        return self._rows[row].time_range

    def song_at(self, row: int) -> Song:
        return self._rows[row].song

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
        temporal = row.level_value() is Level.TEMPORAL
        row.detail.setCurrentWidget(row.range_button if temporal else row.role)
        self.changed.emit()

    def _maybe_ask_range(self, row: _Row) -> None:
        if row.level_value() is Level.TEMPORAL and row.time_range is None:
            self.range_requested.emit(self._rows.index(row))

    def set_editable(self, editable: bool) -> None:
        """Freeze the tray while a generation runs, so the take matches what is shown."""
        self._editable = editable
        for row in self._rows:
            for w in (row.level, row.weight, row.remove, row.range_button):
                w.setEnabled(editable)
            row.role.setEnabled(editable and row.level_value() is Level.PARAMETER)
