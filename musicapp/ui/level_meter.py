"""The take's levels (issue 19: "no … meters"): its integrated loudness and true peak, measured
once when the take is shown (off the GUI thread), and while it plays a peak meter per channel
and its momentary and short-term loudness, following the playhead.

Integrated loudness is BS.1770 (``audio.loudness``), what streaming services normalise by; the
true peak is the 4×-oversampled peak an encoder or a DAC can clip on. The live bars show each
channel's sample peak over the last 100 ms before the playhead, on a −60…0 dBFS scale, red from
−1 dBFS; beside them the momentary (400 ms) and short-term (3 s) loudness of EBU R128, read from
the K-weighted power summed once with the measurement (``LoudnessTrack``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from musicapp.audio.loudness import (
    SHORT_TERM_S,
    SILENCE_LUFS,
    LoudnessTrack,
    integrated_lufs,
    true_peak_dbtp,
)
from musicapp.jobs import FunctionJob
from musicapp.ui import theme
from musicapp.ui.job_control import JobControl
from musicapp.ui.job_runner import JobRunner

FLOOR_DB = -60.0
HOT_DB = -1.0
WINDOW_S = 0.1


def measure(audio: npt.NDArray[np.float32], sr: int) -> tuple[float, float, LoudnessTrack]:
    """(integrated LUFS, true peak dBTP, the loudness along it) of a take."""
    return integrated_lufs(audio, sr), true_peak_dbtp(audio, sr), LoudnessTrack(audio, sr)


def lufs_text(value: float) -> str:
    return "—" if value <= SILENCE_LUFS else f"{value:.1f}"


class PeakBars(QWidget):
    """One horizontal bar per channel: the peak of the last 100 ms, in dBFS."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.levels_db: list[float] = []
        self.setMinimumSize(80, 14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Peak level while playing")

    def set_levels(self, levels_db: list[float]) -> None:
        self.levels_db = levels_db
        words = ", ".join(f"{v:.0f} dBFS" if v > FLOOR_DB else "silent" for v in levels_db)
        self.setAccessibleDescription(words or "not playing")
        self.update()

    def paintEvent(self, _event: object) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        rect = QRectF(self.rect())
        painter.fillRect(rect, theme.qcolour("surface_alt"))
        n = max(1, len(self.levels_db))
        h = rect.height() / n
        for i, db in enumerate(self.levels_db):
            fill = max(0.0, min(1.0, (db - FLOOR_DB) / -FLOOR_DB))
            colour = theme.qcolour("bad" if db >= HOT_DB else "accent")
            painter.fillRect(QRectF(0, i * h + 1, rect.width() * fill, h - 2), colour)
        painter.end()


class LevelMeter(QWidget):
    """ "−14.2 LUFS · true peak −1.1 dBTP" and the live peak bars."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.summary = QLabel("")
        self.summary.setObjectName("hint")
        self.summary.setToolTip(
            "Integrated loudness (BS.1770, what streaming services normalise by) and the true "
            "peak (what an encoder or a converter can clip on); while playing, the momentary "
            "(M, last 400 ms), short-term (S, last 3 s) and integrated (I) loudness, EBU R128"
        )
        self.bars = PeakBars()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.bars, 1)
        # At rest the summary; while playing, in its place (no wider: the panel must not jump),
        # "M −14.2 · S −13.8 · I −14.0 LUFS": momentary, short-term and integrated loudness.
        self.at_rest = ""
        self._integrated = SILENCE_LUFS
        self._audio: npt.NDArray[np.float32] | None = None
        self._rate = 0
        self._track: LoudnessTrack | None = None
        self._job = JobControl(runner, self, self._on_measured, self._on_failed)

    def show_take(self, audio: npt.NDArray[np.float32], sr: int) -> None:
        """Measure the take off the GUI thread; the bars rest until it plays."""
        self._audio, self._rate, self._track = audio, sr, None
        self.at_rest = "Measuring…"
        self.summary.setText(self.at_rest)
        self.bars.set_levels([])
        self._job.start(FunctionJob("measure the take", lambda _p, _c: measure(audio, sr)))

    def _on_measured(self, result: tuple[float, float, LoudnessTrack]) -> None:
        lufs, peak, self._track = result
        loud = "silent" if lufs <= SILENCE_LUFS else f"{lufs:.1f} LUFS"
        tp = "—" if math.isinf(peak) else f"{peak:.1f} dBTP"
        self.at_rest, self._integrated = f"{loud} · true peak {tp}", lufs
        self.summary.setText(self.at_rest)
        hot = not math.isinf(peak) and peak > HOT_DB
        self.summary.setStyleSheet(f"color: {theme.colour('bad')};" if hot else "")

    def _on_failed(self, exc: BaseException) -> None:
        self.at_rest = f"Not measured ({exc})"
        self.summary.setText(self.at_rest)

    def set_position(self, seconds: float | None) -> None:
        """The peak per channel of the 100 ms before ``seconds``; rest when None."""
        if seconds is None or self._audio is None or self._rate <= 0:
            self.bars.set_levels([])
            self.summary.setText(self.at_rest)
            return
        if self._track is not None:
            momentary, short = self._track.at(seconds), self._track.at(seconds, SHORT_TERM_S)
            self.summary.setText(
                f"M {lufs_text(momentary)} · S {lufs_text(short)} · "
                f"I {lufs_text(self._integrated)} LUFS"
            )
        end = int(seconds * self._rate)
        start = max(0, end - int(WINDOW_S * self._rate))
        block = self._audio[:, start:end]
        if block.shape[1] == 0:
            self.bars.set_levels([FLOOR_DB] * self._audio.shape[0])
            return
        peaks = np.max(np.abs(block), axis=1)
        self.bars.set_levels([20 * math.log10(p) if p > 0 else FLOOR_DB for p in peaks])
