"""The take panel: waveform with provenance, who contributed, the royalty split, play and export."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from musicapp.audio.playback import Player
from musicapp.core import GenerationRequest, RightsHolder, Song
from musicapp.jobs import FunctionJob
from musicapp.studio_types import LedgerDamaged
from musicapp.ui import export_dialog, icons, take_money
from musicapp.ui.audit_widget import AuditWidget
from musicapp.ui.error_dialog import show_error
from musicapp.ui.job_control import JobControl
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.labels import placeholder_label, read_only_table, scrolled
from musicapp.ui.ledger_damage_widget import show_ledger_refusal
from musicapp.ui.level_meter import LevelMeter
from musicapp.ui.services import TakePort
from musicapp.ui.take_loop import TakeLoop
from musicapp.ui.training_widget import TrainingWidget
from musicapp.ui.waveform_widget import LegendWidget, WaveformWidget

if TYPE_CHECKING:
    from musicapp.rooms.exports import ExportBatch
    from musicapp.royalties.take_price import TakePrices
    from musicapp.takes import Take

log = logging.getLogger(__name__)

PLAYHEAD_INTERVAL_MS = 40


def weight_fractions(request: GenerationRequest) -> dict[str, float]:
    """Each song's part of the references' total weight (a song referenced twice, summed)."""
    total = sum(r.weight for r in request.references) or 1.0
    out: dict[str, float] = {}
    for r in request.references:
        out[r.song_id] = out.get(r.song_id, 0.0) + r.weight / total
    return out


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def _scrolling_page(*parts: QWidget) -> QScrollArea:
    """A tab page of ``parts`` one under another, scrolling up and down when it does not fit."""
    layout = QVBoxLayout(page := QWidget())
    layout.setContentsMargins(6, 6, 6, 6)
    for part in parts:
        layout.addWidget(part)
    layout.addStretch(1)
    return scrolled(page)


class ResultWidget(QWidget):
    """Shows one take; plays it and exports it with its attribution."""

    status = Signal(str)  # a line for the status bar
    exported = Signal(object)  # the studio's ExportResult
    shown = Signal()  # a take is shown (the window brings a folded panel back)

    SHARES_TAB, AUDIT_TAB, TRAINING_TAB = 0, 1, 2

    def __init__(
        self,
        service: TakePort,
        runner: JobRunner,
        exports_dir: Path,
        player: Player | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._runner = runner
        self._export_job = JobControl(
            runner, self, self._on_exported, self._on_export_failed, on_end=self._on_export_done
        )
        self._exports_dir = exports_dir
        self._player = player or Player()
        self.take: Take | None = None
        self._songs: dict[str, Song] = {}
        self._audio: npt.NDArray[np.float32] | None = None
        self._export_path: Path | None = None

        self.placeholder = placeholder_label(
            "Your take appears here.\n\nAdd reference songs, check that they are cleared, then "
            "press Generate. You will see who sounds where and how the royalties split."
        )

        self.info = QLabel()
        self.info.setObjectName("hint")
        self.info.setWordWrap(True)
        self.waveform = WaveformWidget()
        self.meter = LevelMeter(runner)  # loudness, true peak, and the peaks while it plays
        self.legend = LegendWidget()

        self.royalty_table = read_only_table(
            "royaltyTable", ("Rights holder", "Type", "Share", "Amount")
        )
        header = self.royalty_table.horizontalHeader()
        for column, width in ((1, 96), (2, 72), (3, 72)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # The take's amount at its use tier and at the others, or why there is none.
        self.royalty_table.installEventFilter(self)
        self.price_label = QLabel()
        self.price_label.setObjectName("takePrice")
        self.price_label.setWordWrap(True)

        self.play_button = QPushButton(icons.icon("play"), "Play")
        self.play_button.setObjectName("playButton")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.export_button = QPushButton(icons.icon("export"), "Export…")
        self.export_button.setObjectName("exportButton")
        self.export_button.setToolTip(
            "Save the take as WAV, FLAC or MP3, mastered as you choose, with its attribution inside"
        )
        self.export_button.clicked.connect(self.export_take)
        self.export_label = QLabel()
        self.export_label.setObjectName("hint")
        self.export_label.setWordWrap(True)
        self.export_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reveal_button = QPushButton("Reveal in folder")
        self.reveal_button.setToolTip("Open the folder of the exported files")
        self.reveal_button.clicked.connect(self.reveal_exported)
        self.reveal_button.hide()
        self._exported_folder: Path | None = None
        # The audit (studio.audit) beside the attribution by design, or "Audit now".
        self.audit = AuditWidget(service, runner)
        self.audit.status.connect(self.status)
        self.button_row = QWidget()  # style.qss: narrower buttons, to fit a 1024 px window
        self.button_row.setObjectName("takeButtons")
        buttons = QHBoxLayout(self.button_row)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(4)
        buttons.addWidget(self.play_button)
        self.loop = TakeLoop(self.waveform, self)
        self.loop.changed.connect(self._on_loop_changed)
        buttons.addWidget(self.loop.button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        # Shows the Take history dock (history_wiring.py sets its count).
        self.history_button = QPushButton("History")
        self.history_button.setToolTip("Every take made so far: open, name, compare A/B, delete")
        buttons.addWidget(self.history_button)

        # Who sounds and the royalties, or the audit beside them: one tab at a time, so the
        # waveform keeps its room in a window of the default size.
        # Each page scrolls on a small screen rather than squeezing its parts over each other.
        shares_scroll = _scrolling_page(
            _section("Who sounds in this take"),
            self.legend,
            _section("Royalty split"),
            self.royalty_table,
            self.price_label,
        )
        self.details = QTabWidget()
        self.details.setObjectName("takeDetails")
        self.details.addTab(shares_scroll, "Shares and royalties")
        self.details.addTab(_scrolling_page(self.audit), self.audit.tab_title())
        self.details.setTabToolTip(
            self.AUDIT_TAB, "The attribution by design beside what an audit of the take finds"
        )
        self.audit.changed.connect(self._on_audit_changed)
        # A trained engine's take: the training songs it leaned on, and how its pool is paid.
        self.training = TrainingWidget()
        training_page = QWidget()
        training_layout = QVBoxLayout(training_page)
        training_layout.setContentsMargins(6, 6, 6, 6)
        training_layout.addWidget(self.training)
        self.details.addTab(training_page, "Learned from")
        self.details.setTabToolTip(
            self.TRAINING_TAB, "The training songs the model leaned on for this take"
        )

        take_page = QWidget()
        lay = QVBoxLayout(take_page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.info)
        lay.addWidget(self.waveform, 3)
        lay.addWidget(self.meter)
        lay.addWidget(self.details, 5)
        lay.addWidget(self.button_row)
        exported = QHBoxLayout()
        exported.addWidget(self.export_label, 1)
        exported.addWidget(self.reveal_button)
        lay.addLayout(exported)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(take_page)
        title = QLabel("Take")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 12, 12, 12)
        layout.addWidget(title)
        layout.addWidget(self.pages, 1)

        self._playhead_timer = QTimer(self)
        self._playhead_timer.setInterval(PLAYHEAD_INTERVAL_MS)
        self._playhead_timer.timeout.connect(self._tick)
        self._update_play_button()

    # -- showing a take --------------------------------------------------------------------

    def show_take(self, take: Take, songs: Mapping[str, Song]) -> None:
        """Display `take`; `songs` names the referenced songs (id → Song)."""
        self.stop()
        audio = self._service.take_audio(take)
        royalties = self._service.royalties(take)
        self.take, self._audio, self._songs = take, audio, dict(songs)
        req, prov = take.request, take.provenance
        text = (
            f"{take.duration_s:.1f} s · {take.sample_rate / 1000:g} kHz · for {req.use.label} · "
            f"seed {req.seed} · {prov.engine or req.engine} engine on {prov.device}"
        )
        if req.user_audio:
            user_range = req.user_range
            part = f" {user_range.start_s:.1f}–{user_range.end_s:.1f} s" if user_range else ""
            text += f" · reshaping{part} of {Path(req.user_audio).name}"
        # What the user should know about how the take came out: far stretches, the tempo
        # chosen, shares that could not meet the weights, resampling, audio found in theirs.
        notes = "".join(f"\n• {note}" for note in prov.notes)
        self.info.setText(text + notes)
        self.info.setToolTip(f"Take {take.id}\nMade {take.created_at}")
        self.waveform.show_take(audio, take.sample_rate, prov)
        self.meter.show_take(audio, take.sample_rate)
        self.loop.show_take(prov, take.duration_s)
        self.shown.emit()
        self.legend.show_shares(prov, songs, weight_fractions(req))
        self._show_royalties(royalties, take, songs)
        self.audit.show_take(take)
        self.training.show_training(prov.training, prov.engine)
        self.details.setTabEnabled(self.TRAINING_TAB, prov.training is not None)
        self.export_label.setText("")
        self.reveal_button.hide()
        self.pages.setCurrentIndex(1)
        self._update_play_button()

    def refresh_money(self) -> None:
        """The shown take's royalties and prices again (a sync may have brought prices)."""
        if self.take is not None:
            self._show_royalties(self._service.royalties(self.take), self.take, self._songs)

    def _on_audit_changed(self) -> None:
        self.details.setTabText(self.AUDIT_TAB, self.audit.tab_title())

    def _show_royalties(
        self,
        royalties: list[tuple[RightsHolder, float]],
        take: Take | None = None,
        songs: Mapping[str, Song] | None = None,
    ) -> None:
        """Holders grouped under the song they are paid for (song share × their split), or,
        when the songs' splits no longer give the logged royalties, the logged list as is."""
        grouped = None
        if take is not None and songs is not None:
            grouped = take_money.royalty_rows(royalties, take.provenance.song_shares(), songs)
        if grouped is None:
            # A holder owed nothing (a zero split, a song not heard) is not a row; a share too
            # small to show at one decimal says so rather than "0.0 %".
            flat = sorted(((h, s) for h, s in royalties if s > 0), key=lambda hs: -hs[1])
            grouped = [take_money.RoyaltyRow(False, h.name, h.kind, s, "") for h, s in flat]
        prices, error = self._take_prices(take) if grouped and grouped[0].song_id else (None, "")
        self.price_label.setText(take_money.summary(prices, error))
        self.price_label.setToolTip(take_money.summary_tip(prices))
        self.price_label.setVisible(bool(self.price_label.text()))
        # Amounts only where a rights server prices the songs: a column of dashes says nothing
        # the line under the table does not.
        self.royalty_table.setColumnHidden(3, prices is None or prices.total() is None)
        self._fit_royalty_columns()
        self.royalty_table.setRowCount(len(grouped))
        bold = self.royalty_table.font()
        bold.setBold(True)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, row in enumerate(grouped):
            amount, amount_tip = "", ""
            if prices is not None and row.holder_id:
                amount, amount_tip = take_money.holder_cell(prices, row.song_id, row.holder_id)
            elif prices is not None:
                amount, amount_tip = take_money.song_cell(prices, row.song_id)
            name = row.name if row.heading or not row.tip else f"   {row.name}"
            items = (QTableWidgetItem(name), QTableWidgetItem(row.kind),
                     QTableWidgetItem(take_money.share_text(row.share)), QTableWidgetItem(amount))  # fmt: skip
            for c, item in enumerate(items):
                if row.heading:
                    item.setFont(bold)
                named = c == 0 and row.tip and not row.heading
                tip = f"{row.name} ({row.kind}): {row.tip}" if named else row.tip
                item.setToolTip(amount_tip if c == 3 else tip)
                if c >= 2:
                    item.setTextAlignment(right)
                self.royalty_table.setItem(r, c, item)
        # As tall as its rows (up to ten); on a small screen down to three rows, and scrolls.
        t = self.royalty_table
        frame = t.horizontalHeader().sizeHint().height() + 2 * t.frameWidth() + 2
        heights = [t.rowHeight(r) for r in range(len(grouped))]
        t.setMaximumHeight(frame + sum(heights[:10]))
        t.setMinimumHeight(frame + sum(heights[:3]))

    NARROW_ROYALTIES = 360  # below this the names get the Type column's room

    def _fit_royalty_columns(self) -> None:
        """On a narrow panel, with amounts shown, the Type column gives its room to the names
        (each name's tooltip still says it)."""
        table = self.royalty_table
        narrow = table.viewport().width() < self.NARROW_ROYALTIES and not table.isColumnHidden(3)
        table.setColumnHidden(1, narrow)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.royalty_table and event.type() == QEvent.Type.Resize:
            self._fit_royalty_columns()  # also when a scroll bar comes or goes beside it
        return super().eventFilter(watched, event)

    def _take_prices(self, take: Take | None) -> tuple[TakePrices | None, str]:
        """The take's prices, or why they could not be read (the take is still shown)."""
        if take is None:
            return None, ""
        try:
            return self._service.compensation.take_prices(take), ""
        except Exception as exc:  # money shown wrong is worse than none: say why, keep the take
            log.warning("prices of take %s: %s", take.id, exc)
            return None, str(exc) or type(exc).__name__

    # -- playback ------------------------------------------------------------------------

    def _update_play_button(self) -> None:
        if not self._player.available:
            self.play_button.setEnabled(False)
            self.play_button.setToolTip(f"Cannot play: {self._player.unavailable_reason}")
        else:
            self.play_button.setEnabled(self._audio is not None)
            self.play_button.setToolTip("Play the take")

    def _on_play_toggled(self, on: bool) -> None:
        if on and self._audio is not None and self.take is not None:
            try:
                self._player.play(self.loop.playable(self._audio, self.take.sample_rate),
                                  self.take.sample_rate)  # fmt: skip
            except Exception as exc:  # a device that vanished must not take the window down
                self.play_button.setChecked(False)
                show_error(self, "Cannot play", f"The take could not be played: {exc}")
                return
            self.play_button.setText("Stop")
            self.play_button.setIcon(icons.icon("stop"))
            self._playhead_timer.start()
        else:
            self._player.stop()
            self._reset_play_button()

    def _on_loop_changed(self) -> None:
        """Loop switched or its range moved while playing: play on from the new range."""
        if self.play_button.isChecked():
            self.play_button.setChecked(False)
            self.play_button.setChecked(True)

    def _tick(self) -> None:
        pos = self.loop.position(self._player.position_s)
        self.waveform.set_playhead(pos)
        self.meter.set_position(pos)
        if pos is None:
            self.play_button.setChecked(False)

    def _reset_play_button(self) -> None:
        self._playhead_timer.stop()
        self.waveform.set_playhead(None)
        self.meter.set_position(None)
        self.play_button.setText("Play")
        self.play_button.setIcon(icons.icon("play"))

    @property
    def player(self) -> Player:
        """The one player of the window's takes (Take history's A/B plays through it too)."""
        return self._player

    def clear(self) -> None:
        """Back to the placeholder (the take shown was deleted)."""
        self.stop()
        self.take, self._audio = None, None
        self.pages.setCurrentIndex(0)

    def stop(self) -> None:
        if self.play_button.isChecked():
            self.play_button.setChecked(False)

    # -- export --------------------------------------------------------------------------

    def export_take(self) -> None:
        """The Export dialog, then the export on a worker (the I/O lane, the compute lane when
        stems are separated); reports the files, their ledger events and the mastering."""
        if self.take is None:
            return
        exports = self._service.exports
        plan = export_dialog.ask_export_plan(self, exports, self.take, self._exports_dir)
        if plan is None:
            return
        take = self.take
        # The job runs and is freed on a worker thread: it must not hold any widget.
        job = FunctionJob(
            f"export take {take.id[:8]}",
            lambda p, c: exports.export_plan(take, plan, p, c),
            lane="compute" if plan.stems else "io",
        )
        self.export_button.setEnabled(False)
        self.reveal_button.hide()
        self.status.emit(f"Exporting to {plan.folder}…")
        self._export_path = exports.names(take, plan)[0]  # checked by the dialog
        self._export_job.start(job)

    def _on_exported(self, batch: ExportBatch) -> None:
        mix = batch.files[0]
        stems = len(batch.files) - 1
        more = f" and {stems} stems ({batch.stems_label})" if stems else ""
        text = f"Exported {mix.path}{more} · {batch.mastering} · ledger event {mix.event_id}"
        self.export_label.setText(text)
        self._exported_folder = batch.folder
        self.reveal_button.show()
        self.status.emit(text)
        self.exported.emit(mix)

    def reveal_exported(self) -> None:
        """Open the folder of the last export in the desktop's file manager."""
        if self._exported_folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._exported_folder)))

    def _on_export_failed(self, exc: BaseException) -> None:
        self.status.emit(f"Export failed: {exc}")
        if isinstance(exc, LedgerDamaged):
            show_ledger_refusal(self, "Cannot export", exc.damage)
            return
        where = self._export_path
        show_error(self, "Export failed", f"The take could not be exported to {where}.", exc)

    def _on_export_done(self) -> None:
        self.export_button.setEnabled(True)
