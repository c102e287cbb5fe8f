"""Loop a range of the take (issue 19: "no … looped range playback"): Loop shows a range on the
waveform, its edges dragged and snapped to the take's own steps (the bars or seconds of its
timeline), and Play then plays that range over and over, the playhead going round inside it.

The range is cut from the take and repeated for about ``LOOP_S`` (as the range dialog's
audition does), so the player needs nothing new; the playhead is mapped back into the range.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton

from musicapp.core import Provenance
from musicapp.ui import icons, theme
from musicapp.ui.waveform_widget import WaveformWidget

LOOP_S = 60.0  # a loop plays the range over and over for about this long
DEFAULT_S = 8.0  # a new loop covers the first steps up to about this long
MIN_S = 0.25  # the shortest loop
FINE_STEP_S = 0.1  # the snap when the take has no timeline


def steps(provenance: Provenance, duration: float) -> list[float]:
    """Where a loop's edges may sit: the take's timeline boundaries, or every 0.1 s."""
    edges = sorted({0.0, duration, *(s.start_s for s in provenance.timeline),
                    *(s.end_s for s in provenance.timeline)})  # fmt: skip
    if len(edges) > 2:
        return [e for e in edges if 0.0 <= e <= duration]
    return [float(x) for x in np.arange(0.0, duration + 1e-9, FINE_STEP_S)] + [duration]


class TakeLoop(QObject):
    """The Loop button and its range on the waveform; ``changed`` when either moves."""

    changed = Signal()

    def __init__(self, waveform: WaveformWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # An icon beside Play (the row must fit a 1024 px window), named for screen readers.
        self.button = QPushButton(icons.icon("loop"), "")
        self.button.setAccessibleName("Loop a range")
        self.button.setObjectName("loopButton")
        self.button.setCheckable(True)
        self.button.setToolTip(
            "Play a range of the take over and over: drag the shaded range's edges on the "
            "waveform (they snap to the take's bars or seconds)"
        )
        self.button.setEnabled(False)
        # The accent, see-through: the same light wash on a light or a dark waveform.
        wash = theme.qcolour("accent")
        wash.setAlpha(70)
        self.region = pg.LinearRegionItem((0.0, 1.0), brush=pg.mkBrush(wash), swapMode="block")
        self.region.setZValue(-5)  # behind the bars, so they stay readable
        self.region.hide()
        waveform.addItem(self.region)
        self._steps: list[float] = [0.0, 1.0]
        self._duration = 0.0
        self._playing: tuple[float, float] | None = None  # the range being played, if looped
        self.button.toggled.connect(self._on_toggled)
        self.region.sigRegionChangeFinished.connect(self._snap)

    def show_take(self, provenance: Provenance, duration: float) -> None:
        """A new take: Loop off, its range over the first steps."""
        self._duration = duration
        self._steps = steps(provenance, duration)
        self.button.setChecked(False)
        self.button.setEnabled(duration >= MIN_S)
        end = min((s for s in self._steps if s >= min(DEFAULT_S, duration)), default=duration)
        self.set_span(0.0, end)

    @property
    def active(self) -> bool:
        return self.button.isChecked()

    def span(self) -> tuple[float, float]:
        start, end = self.region.getRegion()
        return float(start), float(end)

    def set_span(self, start: float, end: float) -> None:
        """Put the range at (start, end), snapped to the nearest steps, never shorter than
        MIN_S nor outside the take."""
        snap = self._nearest
        a, b = snap(max(0.0, min(start, end))), snap(min(self._duration, max(start, end)))
        if b - a < MIN_S:
            later = [s for s in self._steps if s >= a + MIN_S]
            a, b = (a, later[0]) if later else (max(0.0, self._duration - MIN_S), self._duration)
        self.region.blockSignals(True)
        self.region.setRegion((a, b))
        self.region.blockSignals(False)
        self.changed.emit()

    def _nearest(self, t: float) -> float:
        return min(self._steps, key=lambda s: abs(s - t))

    def _snap(self) -> None:
        self.set_span(*self.span())

    def _on_toggled(self, on: bool) -> None:
        self.region.setVisible(on)
        self.changed.emit()

    def playable(self, audio: npt.NDArray[np.float32], sr: int) -> npt.NDArray[np.float32]:
        """What Play plays: the range repeated while Loop is on, else the whole take."""
        self._playing = None
        if not self.active:
            return audio
        start, end = self.span()
        part = audio[:, int(round(start * sr)) : int(round(end * sr))]
        if part.shape[1] == 0:
            return audio
        self._playing = (start, end)
        return np.tile(part, (1, max(1, int(LOOP_S / (end - start)))))

    def position(self, played_s: float | None) -> float | None:
        """Where in the take the playhead is, ``played_s`` into what ``playable`` gave last."""
        if played_s is None or self._playing is None:
            return played_s
        a, b = self._playing
        return a + (played_s % (b - a))
