"""Take history: every take made so far, newest first, in a dock under the window (View → Take
history). Open one in the Take panel, name it, export it again, delete it, or compare two A/B
at the same loudness, switching at the same moment of the music.

The list is the ledger's generation events (``rooms/history.py``), so takes made from the
command line are here too; each row's tooltip names its ledger event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import InvalidInput
from musicapp.jobs import FunctionJob
from musicapp.ui.error_dialog import show_error
from musicapp.ui.job_control import JobControl
from musicapp.ui.labels import read_only_table

if TYPE_CHECKING:
    from musicapp.audio.playback import Player
    from musicapp.rooms.history import TakeEntry
    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.services import HistoryViewPort

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Made", "References", "Engine", "Length")
ID_ROLE = Qt.ItemDataRole.UserRole


class TakeHistoryWidget(QWidget):
    """The takes list with Open, Rename, A/B, Export and Delete."""

    open_requested = Signal(str)  # a take id: show it in the Take panel
    export_requested = Signal(str)  # a take id: show it, then the Export dialog
    deleted = Signal(str)  # a take id whose audio is gone
    status = Signal(str)

    def __init__(
        self, service: HistoryViewPort, runner: JobRunner, player: Player, parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("takeHistory")
        self._service, self._player = service, player
        self._entries: list[TakeEntry] = []
        self._ab: dict[str, Any] = {}  # ids, audio, rate, side, started_at_s
        self._gains_job = JobControl(runner, self, self._on_gains, self._on_gains_failed)

        self.table = read_only_table("takeHistoryTable", COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAccessibleName("Takes made so far")
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # arrows pick, Tab leaves
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for column in (1, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_selected())

        self.open_button = self._button(
            "Open", "Show the take in the Take panel", self.open_selected
        )
        self.rename_button = self._button("Rename…", "Give the take a name", self.rename_selected)
        self.ab_button = self._button(
            "Compare A/B", "Play two takes at the same loudness, switching in place", self.start_ab
        )
        self.export_button = self._button(
            "Export…", "Export the take (the Export dialog)", self.export_selected
        )
        self.delete_button = self._button(
            "Delete…", "Delete the take's audio (the ledger keeps its record)", self.delete_selected
        )
        buttons = QHBoxLayout()
        for b in (
            self.open_button,
            self.rename_button,
            self.ab_button,
            self.export_button,
            self.delete_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)

        # The A/B bar, shown while two takes are compared.
        self.ab_label = QLabel()
        self.ab_label.setObjectName("hint")
        self.ab_label.setWordWrap(True)
        self.play_a = self._button("▶ A", "Play take A from where you are", lambda: self.play("A"))
        self.play_b = self._button("▶ B", "Play take B from where you are", lambda: self.play("B"))
        self.play_a.setAccessibleName("Play take A")
        self.play_b.setAccessibleName("Play take B")
        self.stop_ab = self._button("Stop", "Stop the comparison", self.stop)
        self.ab_bar = QWidget()
        ab = QHBoxLayout(self.ab_bar)
        ab.setContentsMargins(0, 0, 0, 0)
        ab.addWidget(self.play_a)
        ab.addWidget(self.play_b)
        ab.addWidget(self.stop_ab)
        ab.addWidget(self.ab_label, 1)
        self.ab_bar.hide()

        self.empty = QLabel("No takes yet: the takes you generate are listed here.")
        self.empty.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.ab_bar)
        self.refresh()

    def _button(self, text: str, tip: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- the list -------------------------------------------------------------------------------

    def refresh(self, select: str = "") -> None:
        """Read the takes again; select ``select`` (a take id) when given."""
        self._entries = self._service.history.entries()
        self.table.clearSelection()  # nothing chosen for the user after a delete
        self.table.setRowCount(len(self._entries))
        for row, e in enumerate(self._entries):
            cells = (
                e.label,
                e.created_at[:16].replace("T", " "),
                ", ".join(e.titles),
                e.engine,
                f"{e.duration_s:.1f} s · {e.sample_rate / 1000:g} kHz",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, e.id)
                item.setToolTip(f"{e.label}\nLedger event {e.id} (generation)\n{e.created_at}")
                self.table.setItem(row, col, item)
            if e.id == select:
                self.table.selectRow(row)
        self.empty.setVisible(not self._entries)
        self.table.setVisible(bool(self._entries))
        self._update_buttons()

    @property
    def entries(self) -> list[TakeEntry]:
        """The takes listed, newest first."""
        return list(self._entries)

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self._entries[r].id for r in rows if r < len(self._entries)]

    def _entry(self, take_id: str) -> TakeEntry:
        return next(e for e in self._entries if e.id == take_id)

    def _update_buttons(self) -> None:
        n = len(self.selected_ids())
        for b in (self.open_button, self.rename_button, self.export_button):
            b.setEnabled(n == 1)
        self.delete_button.setEnabled(n >= 1)
        self.ab_button.setEnabled(n == 2)
        self.ab_button.setToolTip(
            "Play two takes at the same loudness, switching in place"
            if n == 2
            else "Select two takes (Ctrl+click) to compare them"
        )

    # -- actions --------------------------------------------------------------------------------

    def open_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.open_requested.emit(ids[0])

    def export_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.export_requested.emit(ids[0])

    def rename_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        entry = self._entry(ids[0])
        name, ok = QInputDialog.getText(
            self, "Rename take", "Name (empty: its references' titles):", text=entry.name
        )
        if not ok:
            return
        try:
            kept = self._service.history.rename(entry.id, name)
        except InvalidInput as exc:
            show_error(self, "Cannot rename the take", str(exc))
            return
        self.refresh(select=entry.id)
        self.status.emit(f"Take renamed “{kept}”" if kept else "Take name removed")

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        names = ", ".join(f"“{self._entry(i).label}”" for i in ids[:3])
        more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
        answer = QMessageBox.question(
            self,
            "Delete takes" if len(ids) > 1 else "Delete take",
            f"Delete {names}{more}?\n\nThe audio is removed from this computer. The ledger keeps "
            "each take's generation event (what it earned) and records the deletion.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.stop()
        done: list[str] = []
        for take_id in ids:
            try:
                self._service.history.delete(take_id)
            except Exception as exc:  # a damaged ledger, a file in use: say it, keep the rest
                log.warning("could not delete take %s: %s", take_id, exc)
                show_error(self, "Cannot delete the take", f"Take {take_id} was kept.", exc)
                break
            done.append(take_id)
        self.refresh()
        for take_id in done:
            self.deleted.emit(take_id)
        self.status.emit(f"Deleted {len(done)} take(s); the ledger records it")

    # -- A/B ------------------------------------------------------------------------------------

    def start_ab(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 2:
            return
        self.stop()
        service = self._service
        job = FunctionJob(
            "match loudness",
            lambda _p, _c: (
                ids,
                service.history.matched_gains(ids),
                [service.take_audio(service.take(i)) for i in ids],
                [service.take(i).sample_rate for i in ids],
            ),
            lane="io",
        )
        self.ab_button.setEnabled(False)
        self._gains_job.start(job)

    def _on_gains(self, result: tuple[list[str], dict[str, float], list[Any], list[int]]) -> None:
        ids, gains, audio, rates = result
        self._update_buttons()
        a, b = (self._entry(i) for i in ids)
        trims = [20 * np.log10(max(gains[i], 1e-6)) for i in ids]
        self._ab = {
            "ids": ids,
            "audio": {
                s: x * np.float32(gains[i]) for s, x, i in zip("AB", audio, ids, strict=True)
            },
            "rate": dict(zip("AB", rates, strict=True)),
            "side": "",
            "offset": 0.0,
        }
        self.ab_label.setText(
            f"A: {a.label} ({trims[0]:+.1f} dB) · B: {b.label} ({trims[1]:+.1f} dB); "
            "at the quieter one's loudness, so you hear the sound, not the level"
        )
        self.ab_bar.show()
        self.play("A")

    def _on_gains_failed(self, exc: BaseException) -> None:
        self._update_buttons()
        show_error(self, "Cannot compare the takes", "Their audio could not be read.", exc)

    @property
    def ab_side(self) -> str:
        """ "A" or "B" while a comparison plays, else ""."""
        return str(self._ab.get("side", "")) if self._ab else ""

    def play(self, side: str) -> None:
        """Play ``side`` from where the comparison is now (the other side's position)."""
        if not self._ab:
            return
        if not self._player.available:
            self.status.emit(f"Cannot play: {self._player.unavailable_reason}")
            return
        pos = self._player.position_s if self.ab_side else None
        at = self._ab["offset"] + (pos or 0.0) if pos is not None else 0.0
        audio, rate = self._ab["audio"][side], self._ab["rate"][side]
        start = min(int(at * rate), max(0, audio.shape[1] - 1))
        try:
            self._player.play(audio[:, start:], rate)
        except RuntimeError as exc:
            self.status.emit(str(exc))
            return
        self._ab["side"], self._ab["offset"] = side, start / rate
        self.play_a.setDefault(side == "A")
        self.play_b.setDefault(side == "B")
        self.status.emit(f"Playing {side} from {start / rate:.1f} s")

    def stop(self) -> None:
        if self.ab_side:
            self._player.stop()
            self._ab["side"] = ""
