"""The Royalties view's "Simulator" tab: one synthetic period (Zipf popularity) paid out under
every mechanism side by side, as a job: a table of Gini, top-1 %, top-10 % and holders paid at
least the minimum, the Lorenz curves (with the line of equality) and a payout histogram.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from musicapp.jobs import FunctionJob, Progress
from musicapp.royalties.inequality import lorenz
from musicapp.royalties.simulate import label
from musicapp.ui import theme
from musicapp.ui.job_control import JobControl
from musicapp.ui.royalties_policy_widget import cell, read_only_table

if TYPE_CHECKING:
    from musicapp.royalties.simulate import MechanismFigures
    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.services import RoyaltiesPort

log = logging.getLogger(__name__)

COLUMNS = ("Mechanism", "Gini", "Top 1 %", "Top 10 %", "Paid ≥ minimum")
# (name, label, default, maximum) of the integer inputs
COUNTS = (
    ("events", "Generations", 200_000, 10_000_000),
    ("songs", "Songs", 20_000, 1_000_000),
    ("holders", "Rights holders", 2_000, 100_000),
)
DEFAULT_ZIPF, DEFAULT_POOL_EUR, DEFAULT_MINIMUM_EUR = 1.0, 100_000.0, 10.0
LORENZ_POINTS = 201
HIST_BINS = 30
# One colour per mechanism, readable on white (Tailwind 600s).
CURVE_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777")
# Curves often lie close together: each has its own dash too, so the ones below show through.
CURVE_STYLES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
)
HIST_TITLE = "Payout histogram (log-binned)"
HIST_NOTE = "Histogram: payouts in log-spaced bins; holders paid nothing are left out."


@dataclass(frozen=True)
class Simulation:
    """What the job hands the tab: figures per mechanism, their Lorenz curves and histograms."""

    figures: list[MechanismFigures]
    labels: list[str]
    lorenz: list[tuple[NDArray[np.float64], NDArray[np.float64]]]
    bin_edges_eur: NDArray[np.float64]
    counts: list[NDArray[np.int64]]
    n_holders: int
    minimum_cents: int


def summarise(figures: list[MechanismFigures], minimum_cents: int) -> Simulation:
    """Lorenz curves and a shared log-binned histogram of every mechanism's payouts."""
    curves = [lorenz(f.payouts_cents, LORENZ_POINTS) for f in figures]
    positive = [f.payouts_cents[f.payouts_cents > 0] / 100.0 for f in figures]
    low = min((float(p.min()) for p in positive if p.size), default=0.01)
    high = max((float(p.max()) for p in positive if p.size), default=1.0)
    edges = np.logspace(np.log10(low), np.log10(max(high, low * 1.01)), HIST_BINS + 1)
    counts = [np.histogram(p, bins=edges)[0].astype(np.int64) for p in positive]
    n = int(figures[0].payouts_cents.size) if figures else 0
    return Simulation(figures, [label(f) for f in figures], curves, edges, counts, n, minimum_cents)


def _plot(title: str, bottom: str, left: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=theme.colour("surface"))
    item = plot.getPlotItem()
    item.setTitle(title, color=theme.colour("text"), size="10pt")
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.15)
    for side, text in (("bottom", bottom), ("left", left)):
        axis = item.getAxis(side)
        axis.setTextPen(pg.mkPen(theme.colour("text_2")))
        axis.setPen(pg.mkPen(theme.colour("border_strong")))
        axis.setLabel(
            text, color=theme.colour("text_2")
        )  # after setPen, which colours the label too
    plot.setMinimumHeight(220)
    return plot


class SimulatorWidget(QWidget):
    """The simulator tab; `run` starts a simulation job with the inputs shown."""

    simulated = Signal(object)  # the Simulation, once shown

    def __init__(
        self, room: Callable[[], RoyaltiesPort], runner: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._room = room
        self.simulation: Simulation | None = None
        self.inputs: dict[str, QSpinBox] = {}
        grid = QGridLayout()
        for i, (name, text, default, maximum) in enumerate(COUNTS):
            box = QSpinBox()
            box.setRange(1, maximum)
            box.setGroupSeparatorShown(True)
            box.setValue(default)
            self.inputs[name] = box
            grid.addWidget(QLabel(text), 0, 2 * i)
            grid.addWidget(box, 0, 2 * i + 1)
        self.zipf = QDoubleSpinBox()
        self.zipf.setRange(0.0, 3.0)
        self.zipf.setSingleStep(0.1)
        self.zipf.setValue(DEFAULT_ZIPF)
        self.zipf.setToolTip("Popularity skew: the most used song is used 2^s times the second")
        self.pool = self._euros(DEFAULT_POOL_EUR, "The period's revenue to share out")
        self.minimum = self._euros(DEFAULT_MINIMUM_EUR, "Holders paid less are counted as unpaid")
        for i, (text, euros) in enumerate(
            (("Zipf exponent", self.zipf), ("Pool", self.pool), ("Minimum", self.minimum))
        ):
            grid.addWidget(QLabel(text), 1, 2 * i)
            grid.addWidget(euros, 1, 2 * i + 1)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setRange(0, 1)
        self.progress.setMaximumWidth(160)
        self.progress.hide()  # shown while a run is under way
        self.message = QLabel("Every mechanism pays the same synthetic period.")
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        run_row = QHBoxLayout()
        run_row.addWidget(self.message, 1)
        run_row.addWidget(self.progress)
        run_row.addWidget(self.run_button)

        self.table = read_only_table(COLUMNS, "royaltiesSimulatorTable")
        self.table.setMinimumHeight(120)
        self.lorenz_plot = _plot(
            "Lorenz curves", "share of holders (poorest first)", "share of income"
        )
        self.lorenz_plot.setXRange(0, 1, padding=0.02)
        self.lorenz_plot.setYRange(0, 1, padding=0.02)
        self.lorenz_plot.setAspectLocked(False)
        self.lorenz_legend = self.lorenz_plot.getPlotItem().addLegend(
            offset=(10, 10),
            labelTextColor=theme.colour("text"),
            brush=pg.mkBrush(theme.colour("surface") + "dc"),
        )
        self.hist_plot = _plot(HIST_TITLE, "payout per holder (EUR, log scale)", "holders")
        self.hist_plot.getPlotItem().setLogMode(x=True, y=False)
        self.lorenz_curves: list[pg.PlotDataItem] = []
        self.hist_curves: list[pg.PlotDataItem] = []
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.lorenz_plot)
        plots.addWidget(self.hist_plot)
        plots.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(run_row)
        layout.addWidget(self.table)
        layout.addWidget(plots, 1)
        self._job = JobControl(
            runner,
            self,
            self._on_result,
            self._on_failed,
            on_progress=self._on_progress,
            on_end=self._on_end,
        )

    @staticmethod
    def _euros(value: float, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 1_000_000_000.0)
        box.setDecimals(2)
        box.setSuffix(" EUR")
        box.setGroupSeparatorShown(True)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    @property
    def busy(self) -> bool:
        return self._job.busy

    def run(self) -> None:
        """Simulate with the inputs shown, off the GUI thread (about a second at 200,000)."""
        if self._job.busy:
            return
        n_events, n_songs, n_holders = (self.inputs[k].value() for k in self.inputs)
        zipf = float(self.zipf.value())
        pool_cents = round(self.pool.value() * 100)
        minimum_cents = round(self.minimum.value() * 100)
        room = self._room

        def work(progress: Any, cancel: Any) -> Simulation:
            progress(Progress(0.0, "simulate", f"Simulating {n_events:,} generations…"))
            figures = room().simulate(
                n_events,
                n_songs,
                n_holders,
                zipf=zipf,
                pool_cents=pool_cents,
                minimum_cents=minimum_cents,
            )
            cancel.check()
            return summarise(figures, minimum_cents)

        self.run_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy: the simulator reports no steps
        self.progress.show()
        self.message.setText(f"Simulating {n_events:,} generations over {n_songs:,} songs…")
        self._job.start(FunctionJob("Royalties simulation", work, lane="compute"))

    def _on_progress(self, p: Progress) -> None:
        if p.message:
            self.message.setText(p.message)

    def _on_end(self) -> None:
        self.run_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.hide()

    def _on_failed(self, exc: BaseException) -> None:
        log.error("royalties simulation failed", exc_info=exc)
        self.message.setText(f"The simulation failed: {exc}")
        self.message.setStyleSheet(f"color:{theme.colour('bad')}")

    def _on_result(self, sim: Simulation) -> None:
        self.simulation = sim
        self.message.setStyleSheet("")
        self.message.setText(
            f"{sim.n_holders:,} rights holders; each mechanism pays the same period. "
            "Gini: 0 when all earn the same, near 1 when one holder earns everything. " + HIST_NOTE
        )
        self._fill_table(sim)
        self._draw(sim)
        self.simulated.emit(sim)

    def _fill_table(self, sim: Simulation) -> None:
        self.table.setRowCount(len(sim.figures))
        for row, (f, name) in enumerate(zip(sim.figures, sim.labels, strict=True)):
            colour = CURVE_COLOURS[row % len(CURVE_COLOURS)]
            first = cell(name[:1].upper() + name[1:])
            first.setForeground(pg.mkColor(colour))
            self.table.setItem(row, 0, first)
            self.table.setItem(row, 1, cell(f"{f.gini:.3f}", align_right=True))
            self.table.setItem(row, 2, cell(f"{f.top1 * 100:.1f} %", align_right=True))
            self.table.setItem(row, 3, cell(f"{f.top10 * 100:.1f} %", align_right=True))
            paid = f"{f.paid_holders:,} of {sim.n_holders:,}"
            self.table.setItem(row, 4, cell(paid, align_right=True))
        t = self.table  # as tall as its rows, so the plots get the room that is left
        rows_h = sum(t.rowHeight(r) for r in range(t.rowCount()))
        t.setFixedHeight(t.horizontalHeader().sizeHint().height() + rows_h + 2 * t.frameWidth() + 2)

    def _draw(self, sim: Simulation) -> None:
        self.lorenz_plot.getPlotItem().clear()
        self.hist_plot.getPlotItem().clear()
        self.lorenz_legend.clear()
        self.lorenz_curves, self.hist_curves = [], []
        equality = pg.mkPen(theme.colour("faint"), width=1, style=Qt.PenStyle.DashLine)
        self.lorenz_plot.plot([0.0, 1.0], [0.0, 1.0], pen=equality, name="equality")
        centres = np.sqrt(sim.bin_edges_eur[:-1] * sim.bin_edges_eur[1:])
        for i, (name, (x, y), counts) in enumerate(
            zip(sim.labels, sim.lorenz, sim.counts, strict=True)
        ):
            colour, style = (
                CURVE_COLOURS[i % len(CURVE_COLOURS)],
                CURVE_STYLES[i % len(CURVE_STYLES)],
            )
            pen = pg.mkPen(colour, width=2, style=style)
            self.lorenz_curves.append(self.lorenz_plot.plot(x, y, pen=pen, name=name))
            self.hist_curves.append(self.hist_plot.plot(centres, counts, pen=pen, name=name))
        self.hist_plot.getPlotItem().enableAutoRange()
