"""The user's own audio (audio and temporal level): load a file, see it, pick the part to remake."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy.typing as npt
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import TimeRange
from musicapp.jobs import FunctionJob
from musicapp.ui import theme
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.range_widget import RANGE_PEAK_BINS, RangePlotWidget, range_text
from musicapp.ui.waveform_widget import peaks

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3);;All files (*)"


@dataclass(frozen=True)
class LoadedAudio:
    """What the I/O job hands back: enough to draw and describe the file, not the samples."""

    path: str
    duration_s: float
    sample_rate: int
    channels: int
    t: npt.NDArray[Any]
    lo: npt.NDArray[Any]
    hi: npt.NDArray[Any]


def read_for_display(path: str) -> LoadedAudio:
    """Read `path` and reduce it to peaks (runs on the I/O lane; raises AudioError)."""
    from musicapp.audio.io import read_audio

    audio, sr = read_audio(path)
    t, lo, hi = peaks(audio, sr, RANGE_PEAK_BINS)
    return LoadedAudio(path, audio.shape[1] / sr, sr, audio.shape[0], t, lo, hi)


class UserAudioWidget(QWidget):
    """Load audio…, the file's name and length, its waveform with the range to regenerate, Clear.

    The whole file is selected at first, which means "no range" (`user_range()` is None);
    dragging the shaded region's edges picks the part a temporal reference regenerates.
    """

    changed = Signal()

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._loaded: LoadedAudio | None = None
        self._pending: str | None = None  # the file being read; older reads are ignored
        self._editable = True

        self.load_button = QPushButton("Load audio…")
        self.load_button.setToolTip("A WAV, FLAC, Ogg or MP3 file of your own, to reshape")
        self.load_button.clicked.connect(self.choose_file)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Generate without audio of your own")
        self.clear_button.clicked.connect(self.clear)
        self.info = QLabel()
        self.info.setObjectName("hint")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setMinimumWidth(50)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.load_button)
        row.addWidget(self.info, 1)
        row.addWidget(self.clear_button)

        self.plot = RangePlotWidget()
        self.plot.setFixedHeight(72)
        self.plot.setToolTip("Drag the shaded region's edges to choose the part to regenerate")
        self.plot.range_changed.connect(self._show_range)
        self.plot.range_chosen.connect(self._on_range_chosen)
        self.range_label = QLabel()
        self.range_label.setObjectName("hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self.plot)
        layout.addWidget(self.range_label)
        self._show_state()

    # -- reading ---------------------------------------------------------------------------

    def path(self) -> str | None:
        return self._loaded.path if self._loaded else None

    def duration_s(self) -> float:
        return self._loaded.duration_s if self._loaded else 0.0

    def user_range(self) -> TimeRange | None:
        """The part of the file to regenerate; None when none is loaded or all of it is chosen."""
        if self._loaded is None or self.plot.covers_everything():
            return None
        return self.plot.time_range()

    def selected_range(self) -> TimeRange | None:
        """The shaded range even when it is all of the file (a temporal take needs one)."""
        return self.plot.time_range() if self._loaded is not None else None

    def error(self) -> str:
        """The last load's error message, or ""."""
        return str(self.info.property("error") or "")

    def loading(self) -> bool:
        return self._pending is not None

    # -- editing ---------------------------------------------------------------------------

    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Load your audio", "", AUDIO_FILTER)
        if path:
            self.load(path)

    def load(self, path: str | Path) -> None:
        """Read `path` on the I/O lane; the panel shows it, or why it cannot be used."""
        path = str(path)
        self._pending = path
        handle = self._runner.submit(
            FunctionJob(f"read {Path(path).name}", lambda _p, _c: read_for_display(path), lane="io")
        )
        handle.finished.connect(self._on_loaded)
        handle.failed.connect(self._on_failed)
        self._show_state()

    def set_range(self, start_s: float, end_s: float) -> None:
        self.plot.set_range(start_s, end_s)

    def clear(self) -> None:
        self._loaded = None
        self._pending = None
        self.info.setProperty("error", "")
        self.plot.clear_peaks()
        self._show_state()
        self.changed.emit()

    def set_editable(self, editable: bool) -> None:
        """Freeze the panel while a generation runs."""
        self._editable = editable
        self._show_state()

    # -- job results -----------------------------------------------------------------------

    def _on_loaded(self, loaded: LoadedAudio) -> None:
        if loaded.path != self._pending:
            return  # a newer file was asked for meanwhile
        self._pending = None
        self._loaded = loaded
        self.info.setProperty("error", "")
        self.plot.set_peaks(loaded.t, loaded.lo, loaded.hi)
        self.plot.set_duration(loaded.duration_s)
        self._show_state()
        self.changed.emit()

    def _on_failed(self, exc: BaseException) -> None:
        if self._pending is None:
            return
        self._pending = None
        self._loaded = None
        self.plot.clear_peaks()
        self.info.setProperty("error", str(exc))
        self._show_state()
        self.changed.emit()

    def _on_range_chosen(self) -> None:
        self._show_range()
        if self._loaded is not None:
            self.changed.emit()

    # -- drawing ---------------------------------------------------------------------------

    def _show_state(self) -> None:
        error = self.error()
        loaded = self._loaded
        if self._pending is not None:
            self.info.setStyleSheet("")
            self.info.setText(f"Reading {html.escape(Path(self._pending).name)}…")
        elif error:
            self.info.setStyleSheet(f"color:{theme.colour('bad')}")
            self.info.setText(html.escape(error))
        elif loaded is not None:
            self.info.setStyleSheet("")
            channels = "mono" if loaded.channels == 1 else f"{loaded.channels} ch"
            self.info.setText(
                f"<b>{html.escape(Path(loaded.path).name)}</b> · {loaded.duration_s:.1f} s · "
                f"{loaded.sample_rate / 1000:g} kHz {channels}"
            )
        else:
            self.info.setStyleSheet("")
            self.info.setText("No audio of your own (needed for audio and temporal references)")
        self.info.setToolTip(loaded.path if loaded else error)
        self.plot.setVisible(loaded is not None)
        self.range_label.setVisible(loaded is not None)
        self.load_button.setEnabled(self._editable)
        self.clear_button.setEnabled(self._editable and (loaded is not None or bool(error)))
        self.plot.region.setMovable(self._editable)
        self._show_range()

    def _show_range(self) -> None:
        if self._loaded is None:
            self.range_label.setText("")
            return
        chosen = self.user_range()
        if chosen is None:
            self.range_label.setText(
                "Regenerate all of it; drag the shaded edges to regenerate only a part"
            )
        else:
            self.range_label.setText(
                f"Regenerate {range_text(chosen)} of {self._loaded.duration_s:.1f} s; "
                "the rest stays as it is"
            )
