"""The Stems view: the parts of a song or a file, each with Solo and Mute, and Play for the mix.

The studio decides how the stems are made (the catalogue's own, Demucs, or the DSP fallback);
this view runs that job on the compute lane with progress and Cancel, says prominently which
method was used and why (missing weights, say), and lets the user listen to any combination.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.audio.playback import Player
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback
from musicapp.rooms.stems import audible, mix, read_stems
from musicapp.ui import icons, theme
from musicapp.ui.job_control import JobControl
from musicapp.ui.job_runner import JobHandle, JobRunner
from musicapp.ui.seek_player import SeekPlayer
from musicapp.ui.services import StemsPort
from musicapp.ui.waveform_widget import SOURCE_COLOURS, peaks

if TYPE_CHECKING:
    from musicapp.stems.service import StemsResult

log = logging.getLogger(__name__)

POLL_MS = 100
CANCELLED = "Separation cancelled"
READING = "Reading the stems…"
MINI_BINS = 200
NOTE_TONES = {"note": ("warn_soft", "warn_text", "warn_edge"),
              "info": ("info_soft", "info_text", "info_edge"),
              "error": ("bad_soft", "bad_text", "bad_edge")}  # fmt: skip


def note_style(kind: str) -> str:
    """The note's box in the current theme: a fallback, plain information, or an error."""
    back, text, edge = (theme.colour(n) for n in NOTE_TONES[kind])
    return f"background:{back};color:{text};border:1px solid {edge};border-radius:4px;padding:6px"


# The part of the studio this view uses (musicapp/ui/services.py).
StemsService = StemsPort


def method_note(result: StemsResult) -> tuple[str, str]:
    """The line saying how the stems were made (and why), and its style: a yellow note when
    the stems are a stand-in for the real thing, a blue one otherwise."""
    label, reason, method, missing = (
        result.label,
        result.reason,
        result.method,
        result.missing_weights,
    )
    cached = " (from the cache)" if result.cached else ""
    text = f"<b>{html.escape(label[:1].upper() + label[1:])}</b>{cached}"
    if missing:
        text += f"<br>Weights missing: {html.escape(', '.join(missing))}"
    if reason:
        text += f"<br>{html.escape(reason)}"
    fallback = method == "fallback" or bool(missing)
    return text, note_style("note" if fallback else "info")


class MiniWave(QWidget):
    """A stem's waveform in a strip a row high: enough to see where it plays and how loud."""

    def __init__(self, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = QColor(colour)
        self._lo: npt.NDArray[Any] = np.zeros(0)
        self._hi: npt.NDArray[Any] = np.zeros(0)
        self.dimmed = False
        self.setMinimumSize(160, 30)

    def set_audio(self, audio: npt.NDArray[Any], sample_rate: int) -> None:
        _t, self._lo, self._hi = peaks(audio, sample_rate, MINI_BINS)
        self.update()

    def set_dimmed(self, dimmed: bool) -> None:
        self.dimmed = dimmed
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), theme.qcolour("window"))
        n = len(self._lo)
        if n:
            colour = theme.qcolour("border_strong") if self.dimmed else self._colour
            p.setPen(QPen(colour, 1))
            w, h = self.width(), self.height()
            mid = h / 2
            scale = (h / 2 - 1) / max(1e-6, float(max(np.abs(self._lo).max(), self._hi.max())))
            for i in range(n):
                x = i * w / n
                top, bottom = mid - self._hi[i] * scale, mid - self._lo[i] * scale
                p.drawLine(QPointF(x, top), QPointF(x, max(bottom, top + 1)))
        p.end()


class StemRow:
    """One stem's widgets: name, waveform, Solo, Mute, and "Use as my stem"."""

    def __init__(self, name: str, colour: str) -> None:
        self.name = name
        self.label = QLabel(f"<b>{html.escape(name)}</b>")
        self.wave = MiniWave(colour)
        self.solo = self._toggle("S", f"Solo {name}: hear only the soloed stems")
        self.mute = self._toggle("M", f"Mute {name}")
        self.use = QToolButton()
        self.use.setText("Use as my stem")
        self.use.setToolTip(f"Load {name} into the Audio panel as the stem to tone-match")

    @staticmethod
    def _toggle(text: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setToolTip(tip)
        b.setFixedWidth(30)
        return b


class StemsView(QDialog):
    """Separates `source` (a catalogue song id or an audio file) and lets the user hear the parts.

    Signals: `use_stem(path)` when a stem is chosen for the Audio panel; `status(text)`.
    """

    use_stem = Signal(object)  # Path of the stem file
    status = Signal(str)

    def __init__(
        self,
        service: StemsService,
        runner: JobRunner,
        source: str | Path,
        title: str,
        player: Player | SeekPlayer | None = None,
        parent: QWidget | None = None,
        model: str = "htdemucs",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("stemsView")
        self.setWindowTitle(f"Stems of {title}")
        self.setMinimumSize(560, 360)
        self._service, self._runner = service, runner
        self.source, self.model = source, model
        self.player = player if isinstance(player, SeekPlayer) else SeekPlayer(player)
        # The StemsResult once the job has run (Any: the name hides QDialog.result()).
        self.result: Any = None
        self.audio: dict[str, npt.NDArray[Any]] = {}
        self.sample_rate = 0
        self.rows: dict[str, StemRow] = {}

        heading = QLabel(f"Stems of <b>{html.escape(title)}</b>")
        heading.setObjectName("panelTitle")
        self.note = QLabel()
        self.note.setObjectName("stemsNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.stage = QLabel()
        self.stage.setObjectName("hint")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the separation")
        self.cancel_button.clicked.connect(self.cancel)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        self._stems_job = JobControl(
            runner,
            self,
            on_result=self._on_result,
            on_failure=self._on_failed,
            on_cancel=self._on_cancelled,
            on_progress=self._on_progress,
            on_end=self._on_done,
            bar=self.progress,
            cancel_button=self.cancel_button,
        )
        self._read_job = JobControl(runner, self, self._on_read, self._on_failed)

        self._grid = QGridLayout()
        self._grid.setColumnStretch(1, 1)
        grid_host = QWidget()
        grid_host.setLayout(self._grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)

        self.play_button = QPushButton(icons.icon("play"), "Play")
        self.play_button.setObjectName("stemsPlay")
        self.play_button.setCheckable(True)
        self.play_button.setEnabled(False)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.hearing = QLabel()
        self.hearing.setObjectName("hint")
        self.again_button = QPushButton("Separate again")
        self.again_button.setToolTip("Run the separation again (after installing weights, say)")
        self.again_button.clicked.connect(self.start)
        self.again_button.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.play_button)
        bottom.addWidget(self.hearing, 1)
        bottom.addWidget(self.again_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.note)
        layout.addLayout(busy)
        layout.addWidget(self.stage)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_ended)

    # -- the job ------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the separation (or fetch the song's own stems) on the compute lane."""
        if self.handle is not None:
            return
        self.stop()
        self._clear_rows()
        self.result, self.audio = None, {}
        self.play_button.setEnabled(False)
        self.hearing.setText("")
        try:
            job = self._service.stems_job(self.source, model=self.model)
        except Exception as exc:  # an unknown song, an unreadable file: say so, stay open
            self._show_error(f"The stems cannot be made: {exc}")
            return
        self.note.hide()
        self._set_busy(True, "Starting…")
        self._stems_job.start(job)

    @property
    def handle(self) -> JobHandle | None:
        return self._stems_job.handle

    def cancel(self) -> None:
        if self._stems_job.cancel():
            self._say("Cancelling…")

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        fallback = self.result is not None and self.result.method == "fallback"
        self.again_button.setVisible(not busy and (self.result is None or fallback))
        if busy:
            self.progress.setValue(0)
        self._say(text)

    def _say(self, text: str) -> None:
        self.stage.setText(text)
        self.stage.setVisible(bool(text))

    def _on_progress(self, p: Progress) -> None:
        self.stage.setText(p.message or p.stage)

    def _on_result(self, result: StemsResult) -> None:
        self.result = result
        text, style = method_note(result)
        self.note.setText(text)
        self.note.setStyleSheet(style)
        self.note.show()
        self._say(READING)

        def read(_p: ProgressCallback, cancel: CancelToken) -> tuple[dict[str, Any], int]:
            return read_stems(result, cancel)

        self._read_job.start(FunctionJob("read stems", read, lane="io"))

    def _on_read(self, loaded: tuple[dict[str, npt.NDArray[Any]], int]) -> None:
        self.audio, self.sample_rate = loaded
        self._clear_rows()
        for r, name in enumerate(self.audio):
            row = StemRow(name, SOURCE_COLOURS[r % len(SOURCE_COLOURS)])
            row.wave.set_audio(self.audio[name], self.sample_rate)
            row.solo.toggled.connect(self._on_audible_changed)
            row.mute.toggled.connect(self._on_audible_changed)
            path = Path(self.result.stems[name])
            row.use.clicked.connect(lambda _=False, p=path: self.use_stem.emit(p))
            for c, w in enumerate((row.label, row.wave, row.solo, row.mute, row.use)):
                self._grid.addWidget(w, r, c)
            self.rows[name] = row
        self._say("")
        self._on_audible_changed()
        self.again_button.setVisible(str(self.result.method) == "fallback")
        self.status.emit(f"{len(self.audio)} stems: {self.result.label}")

    def _on_failed(self, exc: BaseException) -> None:
        self._show_error(f"The stems could not be made: {exc}")

    def _on_cancelled(self) -> None:
        self._say(CANCELLED)
        self.status.emit(CANCELLED)

    def _on_done(self) -> None:
        text = self.stage.text()
        self._set_busy(False, text if text in (CANCELLED, READING) else "")

    def _show_error(self, text: str) -> None:
        self.note.setText(html.escape(text))
        self.note.setStyleSheet(note_style("error"))
        self.note.show()
        self.status.emit(text)

    def _clear_rows(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.rows = {}

    # -- listening ----------------------------------------------------------------------------

    def audible_names(self) -> list[str]:
        solo = {n for n, r in self.rows.items() if r.solo.isChecked()}
        muted = {n for n, r in self.rows.items() if r.mute.isChecked()}
        return audible(list(self.rows), solo, muted)

    def current_mix(self) -> npt.NDArray[np.float32]:
        return mix(self.audio, self.audible_names())

    def _on_audible_changed(self, *_: object) -> None:
        names = self.audible_names()
        for n, row in self.rows.items():
            row.wave.set_dimmed(n not in names)
        self.hearing.setText(
            "Hearing: " + (", ".join(names) if names else "nothing (every stem is muted)")
        )
        if not self.player.available:
            self.hearing.setText(self.hearing.text() + " · cannot play here: no audio output")
            self.play_button.setEnabled(False)
            self.play_button.setToolTip(f"Cannot play: {self.player.unavailable_reason}")
        else:
            self.play_button.setEnabled(bool(names))
        if self.play_button.isChecked():  # playing: carry on from here with the new mix
            if names:
                self._play(self.player.position_s or 0.0)
            else:
                self.play_button.setChecked(False)

    def _play(self, from_s: float = 0.0) -> bool:
        try:
            self.player.play(self.current_mix(), self.sample_rate, from_s)
        except Exception as exc:  # a device that vanished must not take the view down
            self.hearing.setText(f"Cannot play: {exc}")
            return False
        self._poll.start()
        return True

    def _on_play_toggled(self, on: bool) -> None:
        if on and self.audio and self._play():
            self.play_button.setText("Stop")
            self.play_button.setIcon(icons.icon("stop"))
            return
        if on:
            self.play_button.setChecked(False)
            return
        self._poll.stop()
        self.player.stop()
        self.play_button.setText("Play")
        self.play_button.setIcon(icons.icon("play"))

    def _check_ended(self) -> None:
        if self.player.position_s is None:
            self.play_button.setChecked(False)

    def stop(self) -> None:
        if self.play_button.isChecked():
            self.play_button.setChecked(False)

    def done(self, r: int) -> None:
        """Closing stops the sound and any separation still running."""
        self.stop()
        self.cancel()
        super().done(r)
