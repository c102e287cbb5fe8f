"""Picks the range of a reference song that a temporal reference takes its material from."""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.audio.playback import Player
from musicapp.core import InvalidInput, Song, TimeRange
from musicapp.jobs import FunctionJob
from musicapp.ui import kept
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.range_widget import MIN_RANGE_S, RANGE_PEAK_BINS, RangePlotWidget, range_text
from musicapp.ui.waveform_widget import peaks

DEFAULT_RANGE_S = 8.0
SNAP_KEY = "range/snap_to_bars"
LOOP_S = 60.0  # a looped audition plays the range over and over for about this long


def bar_seconds(song: Song) -> float | None:
    """One bar of the song, from its tempo and meter; None when its tempo is not known."""
    if not song.tempo_bpm or song.tempo_bpm <= 0:
        return None
    return song.beats_per_bar * 60.0 / song.tempo_bpm


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
        player: Player | None = None,
    ) -> None:
        super().__init__(parent)
        self.song = song
        self._player = player or Player()
        self._audio: tuple[np.ndarray, int] | None = None
        self.bar_s = bar_seconds(song)
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
        self.snap = QCheckBox("Snap to bars")
        snapping = kept.settings().value(SNAP_KEY, "true") != "false"
        self.snap.setChecked(self.bar_s is not None and snapping)
        self.snap.setEnabled(self.bar_s is not None)
        self.snap.setToolTip(
            f"Whole bars of {self.bar_s:.2f} s ({song.beats_per_bar} beats at "
            f"{song.tempo_bpm:.0f} BPM)"
            if self.bar_s
            else "The song's tempo is not known"
        )
        self.play_button = QPushButton("▶ Play range")
        self.play_button.setAccessibleName("Play the range")
        self.play_button.setCheckable(True)
        self.play_button.setEnabled(False)  # until the audio is here
        self.play_button.toggled.connect(self._on_play)
        self.loop = QCheckBox("Loop")
        self.loop.setToolTip("Play the range over and over, to hear how it joins")
        audition = QHBoxLayout()
        audition.addWidget(self.play_button)
        audition.addWidget(self.loop)
        audition.addWidget(self.snap)
        audition.addStretch(1)

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
        layout.addLayout(audition)
        layout.addWidget(self.buttons)

        self.plot.range_changed.connect(self._region_to_spins)
        self.snap.toggled.connect(self._on_snap)
        self.finished.connect(lambda _r: self.stop())
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

        def read(_p: object, _c: object) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
            audio = load()
            return audio, peaks(audio, sample_rate, RANGE_PEAK_BINS)

        self._rate = sample_rate
        job = FunctionJob(f"waveform of {self.song.id}", read, lane="io")
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

    def _on_peaks(self, result: tuple[np.ndarray, tuple[np.ndarray, ...]]) -> None:
        audio, drawn = result
        self.plot.set_peaks(*drawn)
        self._audio = (audio, self._rate)
        self.play_button.setEnabled(self._player.available)
        self.play_button.setToolTip(
            "Hear the range"
            if self._player.available
            else f"Cannot play: {self._player.unavailable_reason}"
        )
        self.status.setText("")
        self.status.hide()

    # -- audition ------------------------------------------------------------------------------

    def range_audio(self) -> np.ndarray | None:
        """The chosen range of the song (repeated for about LOOP_S when Loop is on)."""
        chosen = self.time_range()
        if self._audio is None or chosen is None:
            return None
        audio, rate = self._audio
        part = audio[:, int(chosen.start_s * rate) : int(chosen.end_s * rate)]
        if self.loop.isChecked() and part.shape[1]:
            part = np.tile(part, (1, max(1, int(LOOP_S / chosen.duration_s))))
        return part

    def _on_play(self, on: bool) -> None:
        if not on:
            self._player.stop()
            self.play_button.setText("▶ Play range")
            return
        part = self.range_audio()
        if part is None or self._audio is None:
            self.play_button.setChecked(False)
            return
        try:
            self._player.play(part, self._audio[1])
        except RuntimeError as exc:
            self.status.setText(str(exc))
            self.status.show()
            self.play_button.setChecked(False)
            return
        self.play_button.setText("■ Stop")

    def stop(self) -> None:
        if self.play_button.isChecked():
            self.play_button.setChecked(False)

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"The waveform could not be loaded ({exc}); the range still works.")

    def _on_snap(self, on: bool) -> None:
        """Kept for the next range: a musician who works off the grid stays off it."""
        if self.bar_s is not None:
            kept.settings().setValue(SNAP_KEY, "true" if on else "false")
        self._region_to_spins()

    def _snapped(self, start: float, end: float) -> tuple[float, float]:
        """The range moved to whole bars (at least one), when Snap to bars is on."""
        bar = self.bar_s
        if bar is None or not self.snap.isChecked():
            return start, end
        last = self.song.duration_s
        first = min(round(start / bar), max(0, int(last / bar) - 1)) * bar
        stop = max(first + bar, round(end / bar) * bar)
        return round(first, 1), round(min(stop, last), 1)

    def _region_to_spins(self) -> None:
        start, end = self._snapped(*self.plot.seconds())
        if self.snap.isChecked() and self.bar_s is not None:
            self.plot.blockSignals(True)
            self.plot.set_range(start, end)
            self.plot.blockSignals(False)
        for spin, value in ((self.start, start), (self.end, end)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        chosen = self.time_range()
        text = range_text(chosen) if chosen else "too short"
        if chosen and self.bar_s and self.snap.isChecked():
            first = int(round(chosen.start_s / self.bar_s)) + 1
            count = int(round(chosen.duration_s / self.bar_s))
            text += f" · bars {first}–{first + count - 1}"
        self.summary.setText(text)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(chosen is not None)
        ok.setToolTip("" if chosen else f"Choose at least {MIN_RANGE_S:g} s")

    def _spins_to_region(self) -> None:
        self.plot.set_range(self.start.value(), self.end.value())
