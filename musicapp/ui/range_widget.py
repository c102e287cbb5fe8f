"""A small waveform with a draggable shaded region: how the user picks a range of some audio."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from musicapp.core import InvalidInput, TimeRange
from musicapp.ui import theme
from musicapp.ui.plot_theme import style_plot

REGION_BRUSH = (79, 70, 229, 50)  # the accent colour, translucent over the waveform
MIN_RANGE_S = 0.5
RANGE_PEAK_BINS = 800


def range_text(time_range: TimeRange | None) -> str:
    """ "12.0–20.0 s", or "" when there is no range."""
    if time_range is None:
        return ""
    return f"{time_range.start_s:.1f}–{time_range.end_s:.1f} s"


class RangePlotWidget(pg.PlotWidget):  # type: ignore[misc]
    """Min/max peaks of some audio over time, with one draggable region on top.

    The region can be set before the peaks arrive (only the length is needed), so a range can
    be chosen while the waveform is still loading.
    """

    range_changed = Signal()  # while dragging
    range_chosen = Signal()  # when a drag ends, or after `set_range`

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=theme.colour("surface"))
        self.setObjectName("rangePlot")
        item = self.getPlotItem()
        item.hideAxis("left")
        item.setMenuEnabled(False)
        item.hideButtons()
        style_plot(self)
        self.setMouseEnabled(x=False, y=False)
        self.setYRange(-1.05, 1.05, padding=0)
        self.duration_s = 0.0
        self._wave: list[pg.GraphicsObject] = []
        self.region = pg.LinearRegionItem(
            values=(0.0, 1.0),
            brush=pg.mkBrush(*REGION_BRUSH),
            pen=pg.mkPen(theme.colour("accent"), width=2),
            hoverBrush=pg.mkBrush(79, 70, 229, 80),
        )
        self.region.setZValue(10)
        self.region.hide()
        self.addItem(self.region)
        self.region.sigRegionChanged.connect(self.range_changed)
        self.region.sigRegionChangeFinished.connect(self.range_chosen)

    def set_duration(self, duration_s: float, time_range: TimeRange | None = None) -> None:
        """Show a timeline `duration_s` long with the region on `time_range` (default: all)."""
        self.duration_s = max(duration_s, 1e-3)
        self.region.setBounds((0.0, self.duration_s))
        self.setXRange(0, self.duration_s, padding=0.01)
        self.region.show()
        if time_range is None:
            self.set_range(0.0, self.duration_s)
        else:
            self.set_range(time_range.start_s, time_range.end_s)

    def set_peaks(self, t: npt.NDArray[Any], lo: npt.NDArray[Any], hi: npt.NDArray[Any]) -> None:
        """Draw the waveform from `waveform_widget.peaks` output."""
        self.clear_peaks()
        if len(t) == 0:
            return
        scale = 1.0 / max(1e-6, float(max(np.abs(lo).max(), np.abs(hi).max())))
        pen = pg.mkPen(theme.colour("faint"), width=1)
        upper = pg.PlotDataItem(t, hi * scale, pen=pen)
        lower = pg.PlotDataItem(t, lo * scale, pen=pen)
        fill = pg.FillBetweenItem(upper, lower, brush=pg.mkBrush(theme.colour("faint")))
        for it in (upper, lower, fill):
            self.addItem(it)
            self._wave.append(it)

    def clear_peaks(self) -> None:
        for it in self._wave:
            self.removeItem(it)
        self._wave.clear()

    def set_range(self, start_s: float, end_s: float) -> None:
        start = min(max(0.0, start_s), self.duration_s)
        end = min(max(start, end_s), self.duration_s)
        self.region.setRegion((start, end))
        self.range_chosen.emit()  # setRegion stays quiet when nothing moved

    def seconds(self) -> tuple[float, float]:
        start, end = self.region.getRegion()
        return float(start), float(end)

    def time_range(self) -> TimeRange | None:
        """The selected range, or None if there is no timeline or the range is too short."""
        if self.duration_s <= 0:
            return None
        start, end = self.seconds()
        if end - start < MIN_RANGE_S - 1e-9:
            return None
        try:
            # Hundredths, rounded inwards so the range never pokes past the end of the audio.
            return TimeRange(
                math.ceil(start * 100) / 100, math.floor(min(end, self.duration_s) * 100) / 100
            )
        except InvalidInput:
            return None

    def covers_everything(self) -> bool:
        start, end = self.seconds()
        return start <= 0.05 and end >= self.duration_s - 0.05
