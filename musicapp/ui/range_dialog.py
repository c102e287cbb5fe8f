"""Picks the range of a reference song that a temporal reference takes its material from."""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import InvalidInput, Song, TimeRange
from musicapp.jobs import FunctionJob
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.range_widget import MIN_RANGE_S, RANGE_PEAK_BINS, RangePlotWidget, range_text
from musicapp.ui.waveform_widget import peaks

DEFAULT_RANGE_S = 8.0


def default_range(duration_s: float) -> TimeRange:
    """A first guess: up to eight seconds from a quarter of the way in."""
    start = round(duration_s * 0.25, 1)
    end = min(duration_s, start + DEFAULT_RANGE_S)
    if end - start < MIN_RANGE_S:
        start, end = 0.0, duration_s
    return TimeRange(start, end)


class RangeDialog(QDialog):
    """The song's waveform with a draggable region, and the same range as two spin boxes."""

    def __init__(
        self,
        song: Song,
        time_range: TimeRange | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.song = song
        self.setWindowTitle(f"Range of “{song.title}”")
        self.setMinimumWidth(560)
        intro = QLabel(
            f"Choose the part of <b>{html.escape(song.title)}</b> ({html.escape(song.artist)}) "
            "that regenerates the chosen "
            "part of your audio. Drag the shaded region or its edges."
        )
        intro.setWordWrap(True)
        self.status = QLabel("Loading the waveform…")
        self.status.setObjectName("hint")

        self.plot = RangePlotWidget()
        self.plot.setMinimumHeight(140)
        self.start = self._spin()
        self.end = self._spin()
        spins = QHBoxLayout()
        spins.addWidget(QLabel("From"))
        spins.addWidget(self.start)
        spins.addWidget(QLabel("to"))
        spins.addWidget(self.end)
        spins.addStretch(1)
        self.summary = QLabel()
        spins.addWidget(self.summary)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status)
        layout.addLayout(spins)
        layout.addWidget(self.buttons)

        self.plot.range_changed.connect(self._region_to_spins)
        self.start.valueChanged.connect(self._spins_to_region)
        self.end.valueChanged.connect(self._spins_to_region)
        self.plot.set_duration(song.duration_s, time_range or default_range(song.duration_s))
        self._region_to_spins()

    def _spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, self.song.duration_s)
        spin.setDecimals(1)
        spin.setSingleStep(0.5)
        spin.setSuffix(" s")
        return spin

    def load_audio(
        self, runner: JobRunner, load: Callable[[], np.ndarray], sample_rate: int
    ) -> None:
        """Fetch the song's audio on the I/O lane and draw it when it arrives."""
        job = FunctionJob(
            f"waveform of {self.song.id}",
            lambda _p, _c: peaks(load(), sample_rate, RANGE_PEAK_BINS),
            lane="io",
        )
        handle = runner.submit(job)
        handle.finished.connect(self._on_peaks)
        handle.failed.connect(self._on_failed)

    def time_range(self) -> TimeRange | None:
        """The range as the spin boxes show it (tenths of a second): what the label says and
        what the take uses are the same numbers, never a hidden hundredth apart."""
        if self.plot.time_range() is None:
            return None
        start, end = self.start.value(), min(self.end.value(), self.song.duration_s)
        if end - start < MIN_RANGE_S - 1e-9:
            return None
        try:
            return TimeRange(start, end)
        except InvalidInput:
            return None

    def set_range(self, start_s: float, end_s: float) -> None:
        self.plot.set_range(start_s, end_s)

    def _on_peaks(self, result: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        self.plot.set_peaks(*result)
        self.status.setText("")
        self.status.hide()

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"The waveform could not be loaded ({exc}); the range still works.")

    def _region_to_spins(self) -> None:
        start, end = self.plot.seconds()
        for spin, value in ((self.start, start), (self.end, end)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        chosen = self.time_range()
        self.summary.setText(range_text(chosen) if chosen else "too short")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(chosen is not None)
        ok.setToolTip("" if chosen else f"Choose at least {MIN_RANGE_S:g} s")

    def _spins_to_region(self) -> None:
        self.plot.set_range(self.start.value(), self.end.value())
