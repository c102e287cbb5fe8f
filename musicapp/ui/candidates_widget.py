"""A ranked list of songs offered by the selection room (a prompt, "more like this", a session's
recommendations), with Preview, Add, an optional More, and a line saying which embedding
answered and what consent filter the songs passed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.ui import icons, theme
from musicapp.ui.catalog_model import SONG_ID_ROLE, song_ids_mime
from musicapp.ui.labels import placeholder_label
from musicapp.ui.preview_player import PreviewBar, PreviewPlayer

if TYPE_CHECKING:
    from musicapp.core import Song
    from musicapp.selection.types import Candidate, Ranking


def holders_text(song: Song) -> str:
    """The song's rights holders, as every reference shows them."""
    names = dict.fromkeys(split.holder.name for split in song.splits)
    return ", ".join(names) or "no rights holders on record"


def clear_layout(layout: QLayout) -> None:
    """Take every widget and nested layout out of `layout` and delete them (a pane refilled
    with new rows)."""
    while (item := layout.takeAt(0)) is not None:
        if (widget := item.widget()) is not None:
            widget.deleteLater()
        elif (inner := item.layout()) is not None:
            clear_layout(inner)
            inner.deleteLater()


NOTE_CHARS = 90  # a longer note (a missing weights file with its path) shows its head only


def short_note(note: str) -> str:
    """A note's head when it is long ("CLAP is not answering: missing /path…" → "CLAP is not
    answering (details in the tooltip)"); the whole note goes in the tooltip."""
    if len(note) <= NOTE_CHARS:
        return note
    head = note.split(": ", 1)[0]
    return (head if len(head) <= NOTE_CHARS else head[: NOTE_CHARS - 1] + "…") + (
        " (details in the tooltip)"
    )


def answered_text(ranking: Ranking, short: bool = True) -> str:
    """Which embedding answered and the consent filter, in words ("Answered by … · usable at
    song level for commercial distribution"), then the room's notes."""
    parts = [f"Answered by {ranking.embedding}"]
    parts.append(ranking.filtered_for or "not filtered by consent")
    notes = [short_note(n) if short else n for n in ranking.notes]
    return " · ".join(parts) + "".join(f"\n{note}" for note in notes)


def _item(candidate: Candidate) -> QListWidgetItem:
    song = candidate.song
    second = [song.genre or "—"]
    if candidate.long_tail:
        second.append(LONG_TAIL)
    second.append(f"match {candidate.score:.2f}")
    item = QListWidgetItem(f"{song.title} — {song.artist}\n{' · '.join(second)}")
    tip = [f"{song.title} — {song.artist}"]
    if candidate.why:
        tip.append(candidate.why)
    if candidate.long_tail:
        tip.append("Offered from the less-played part of the catalogue")
    tip.append(f"Rights holders: {holders_text(song)}")
    item.setToolTip("\n".join(tip))
    item.setData(SONG_ID_ROLE, song.id)
    return item


LONG_TAIL = "long tail"


class _CandidateDelegate(QStyledItemDelegate):
    """Draws an item's two lines: "Title — Artist", then genre, the long-tail marker (in the
    accent colour) and the score, small and muted, so the score stays unobtrusive."""

    PAD = 5

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        # The item's own text: the option's has its newline turned into U+2028.
        first, _, second = str(index.data(Qt.ItemDataRole.DisplayRole) or "").partition("\n")
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect.adjusted(self.PAD + 1, self.PAD - 1, -self.PAD, -self.PAD)
        painter.save()
        metrics = QFontMetrics(opt.font)
        painter.setFont(opt.font)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        elided = metrics.elidedText(first, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, flags, elided)
        small = QFont(opt.font)
        small.setPointSizeF(max(7.0, opt.font.pointSizeF() - 1))
        painter.setFont(small)
        small_metrics = QFontMetrics(small)
        x, y = rect.left(), rect.top() + metrics.height() + 1
        for k, part in enumerate(second.split(" · ") if second else []):
            text = part if k == 0 else f" · {part}"
            painter.setPen(theme.qcolour("accent") if part == LONG_TAIL else theme.qcolour("muted"))
            width = small_metrics.horizontalAdvance(text)
            painter.drawText(x, y, width + 1, small_metrics.height(), flags, text)
            x += width
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:  # noqa: N802
        metrics = QFontMetrics(option.font)
        return QSize(option.rect.width(), 2 * metrics.height() + 2 * self.PAD + 1)


class _CandidateList(QListWidget):
    """The list itself: dragging a song onto the References list adds it, as from the
    catalogue; Space previews the selected song, as in the catalogue."""

    preview_key = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("ownsSpace", True)  # Space previews here, not the take (keyboard.py)

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:  # noqa: N802 - Qt's name
        return song_ids_mime(str(item.data(SONG_ID_ROLE)) for item in items)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            self.preview_key.emit()
            return
        super().keyPressEvent(event)


class CandidatesWidget(QWidget):
    """Shows a `Ranking`; emits `add_requested(song_id)` (Add, double-click or Enter) and
    `more_requested()` (More, when `more` is on). Previews go through the window's shared
    `PreviewPlayer`, so one sound plays at a time."""

    add_requested = Signal(str)
    more_requested = Signal()

    def __init__(
        self,
        preview: PreviewPlayer,
        empty_text: str,
        more: bool = False,
        none_text: str = "No songs found.",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._preview = preview
        self._empty_text = empty_text
        self._none_text = none_text
        self.ranking: Ranking | None = None

        self.list = _CandidateList()
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.list.setObjectName("candidateList")
        self._delegate = _CandidateDelegate(self.list)  # held: PySide drops an unheld override
        self.list.setItemDelegate(self._delegate)
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(1)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.message = placeholder_label(empty_text)
        self.message.setWordWrap(True)
        self.answered = QLabel()
        self.answered.setObjectName("hint")
        self.answered.setWordWrap(True)
        self.answered.setVisible(False)

        self.preview_button = QPushButton(icons.icon("play"), "Preview")
        self.preview_button.setToolTip("Listen to 15 seconds of the selected song")
        self.add_button = QPushButton(icons.icon("add"), "Add")
        self.add_button.setToolTip("Add the selected song to the references (or double-click)")
        self.more_button = QPushButton("More")
        self.more_button.setToolTip("Ask for more songs, leaving out those already shown")
        self.more_button.setVisible(more)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.add_button, 1)
        buttons.addWidget(self.more_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.answered)
        layout.addWidget(PreviewBar(preview))
        layout.addLayout(buttons)

        self.list.itemActivated.connect(self._activated)
        self.list.preview_key.connect(self.preview_selected)
        self.list.currentRowChanged.connect(self._update_buttons)
        self.preview_button.clicked.connect(self.preview_selected)
        self.add_button.clicked.connect(self.add_selected)
        self.more_button.clicked.connect(self.more_requested)
        self.show_message(empty_text)

    # -- showing ----------------------------------------------------------------------------

    def show_ranking(self, ranking: Ranking, append: bool = False) -> int:
        """Show `ranking` (after the songs shown, leaving out repeats, when `append`); returns
        how many songs were new."""
        shown = set(self.song_ids()) if append else set()
        if not append:
            self.list.clear()
        new = [c for c in ranking.candidates if c.song.id not in shown]
        for candidate in new:
            self.list.addItem(_item(candidate))
        self.ranking = ranking
        self.answered.setText(answered_text(ranking))
        self.answered.setToolTip(answered_text(ranking, short=False))
        self.answered.setVisible(True)
        if self.list.count():
            self._show_list()
            if not append:
                self.list.setCurrentRow(0)
        else:
            self.show_message(self._none_text)
            self.answered.setVisible(True)
        self.more_button.setEnabled(bool(new))
        return len(new)

    def show_message(self, text: str) -> None:
        """A message instead of the list (nothing asked yet, working, or a failure)."""
        self.list.clear()
        self.ranking = None
        self.message.setText(text)
        self.message.setVisible(True)
        self.list.setVisible(False)
        self.answered.setVisible(False)
        self._update_buttons()

    def _show_list(self) -> None:
        self.message.setVisible(False)
        self.list.setVisible(True)
        self._update_buttons()

    def song_ids(self) -> list[str]:
        return [str(self.list.item(i).data(SONG_ID_ROLE)) for i in range(self.list.count())]

    def selected_song_id(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(SONG_ID_ROLE)) if item is not None else None

    # -- acting -----------------------------------------------------------------------------

    def preview_selected(self) -> None:
        song_id = self.selected_song_id()
        if song_id:
            self._preview.preview(song_id)

    def add_selected(self) -> None:
        song_id = self.selected_song_id()
        if song_id:
            self.add_requested.emit(song_id)

    def _activated(self, item: QListWidgetItem) -> None:
        self.add_requested.emit(str(item.data(SONG_ID_ROLE)))

    def _update_buttons(self, *_: object) -> None:
        chosen = self.selected_song_id() is not None
        self.preview_button.setEnabled(chosen)
        self.add_button.setEnabled(chosen)
        self.more_button.setEnabled(self.more_button.isEnabled() and self.list.count() > 0)
