"""The take's waveform, tinted by which references sound where, over a provenance band."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from musicapp.core import USER_SOURCE, Provenance, Song
from musicapp.ui import theme
from musicapp.ui.labels import ElidedLabel
from musicapp.ui.plot_theme import style_plot

# Distinct at a glance and readable on white; assigned to songs in provenance order.
SOURCE_COLOURS = (
    "#4f46e5",
    "#0ea5e9",
    "#f59e0b",
    "#10b981",
    "#ec4899",
    "#8b5cf6",
    "#ef4444",
    "#14b8a6",
)
UNKNOWN_COLOUR = "#94a3b8"
# USER_SOURCE is the user's own audio (audio/temporal level): neutral, no royalty.
USER_COLOUR = "#a8a29e"
USER_LABEL = "Your audio"
PEAK_BINS = 1600
BAND_TOP, BAND_BOTTOM = -1.18, -1.48


def peaks(
    audio: npt.NDArray[Any], sample_rate: int, bins: int = PEAK_BINS
) -> tuple[npt.NDArray[Any], ...]:
    """Bin centres (s) and the min and max of the mono mix per bin: what a screen can show."""
    mono = np.asarray(audio, dtype=np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    n = mono.shape[0]
    if n == 0:
        empty = np.zeros(0, dtype=np.float32)
        return empty, empty, empty
    bins = max(1, min(bins, n))
    edges = np.linspace(0, n, bins + 1).astype(np.int64)
    lo = np.minimum.reduceat(mono, edges[:-1])
    hi = np.maximum.reduceat(mono, edges[:-1])
    centres = (edges[:-1] + edges[1:]) / 2.0 / sample_rate
    return centres, lo, hi


def source_colours(provenance: Provenance) -> dict[str, str]:
    """A colour per referenced song, in the order the provenance lists them."""
    out: dict[str, str] = {}
    for share in provenance.shares:
        if share.song_id not in out and share.song_id != USER_SOURCE:
            out[share.song_id] = SOURCE_COLOURS[len(out) % len(SOURCE_COLOURS)]
    out[USER_SOURCE] = USER_COLOUR
    return out


def has_user_audio(provenance: Provenance) -> bool:
    """Whether the timeline says the user's own audio sounds somewhere in the take."""
    return any(sid == USER_SOURCE for slot in provenance.timeline for sid, _f in slot.sources)


def _blend(sources: tuple[tuple[str, float], ...], colours: Mapping[str, str]) -> QColor:
    """The colours of the songs sounding together, mixed in proportion to their fractions."""
    total = sum(f for _sid, f in sources)
    if total <= 0:
        return QColor(UNKNOWN_COLOUR)
    r = g = b = 0.0
    for sid, fraction in sources:
        c = QColor(colours.get(sid, UNKNOWN_COLOUR))
        w = fraction / total
        r, g, b = r + w * c.red(), g + w * c.green(), b + w * c.blue()
    return QColor(round(r), round(g), round(b))


def colours_at(
    provenance: Provenance, colours: Mapping[str, str], times: npt.NDArray[Any]
) -> list[QColor]:
    """The colour of the output at each time: its sources blended, grey where nothing is known."""
    slots = sorted(provenance.timeline, key=lambda s: s.start_s)
    if not slots:
        overall = _blend(tuple(provenance.song_shares().items()), colours)
        return [overall] * len(times)
    starts = np.array([s.start_s for s in slots])
    idx = np.searchsorted(starts, times, side="right") - 1
    cache: dict[int, QColor] = {}
    out = []
    for t, i in zip(times, idx, strict=True):
        if i < 0 or t >= slots[i].end_s or not slots[i].sources:
            out.append(QColor(UNKNOWN_COLOUR))
            continue
        if i not in cache:
            cache[i] = _blend(slots[i].sources, colours)
        out.append(cache[i])
    return out


class WaveformWidget(pg.PlotWidget):  # type: ignore[misc]
    """Peaks as bars tinted by source, the timeline as a stacked band below, and a playhead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=theme.colour("surface"))
        self.setObjectName("waveform")
        self.setMinimumHeight(170)
        item = self.getPlotItem()
        item.hideAxis("left")
        item.setMenuEnabled(False)
        item.hideButtons()
        item.getAxis("bottom").setLabel("seconds")
        style_plot(self)
        self.setMouseEnabled(x=True, y=False)
        self.setYRange(BAND_BOTTOM - 0.04, 1.04, padding=0)
        self._items: list[pg.GraphicsObject] = []
        self.playhead = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(theme.colour("text"), width=1.5)
        )
        self.playhead.setZValue(10)
        self.playhead.hide()
        self.addItem(self.playhead)
        self.point_count = 0  # how many bars were drawn (tests check we downsampled)

    def retheme(self) -> None:
        """The theme changed: axes, background and playhead follow (the take's bars keep their
        sources' colours)."""
        style_plot(self)
        self.playhead.setPen(pg.mkPen(theme.colour("text"), width=1.5))

    def clear_take(self) -> None:
        for it in self._items:
            self.removeItem(it)
        self._items.clear()
        self.point_count = 0
        self.playhead.hide()

    def show_take(self, audio: npt.NDArray[Any], sample_rate: int, provenance: Provenance) -> None:
        self.clear_take()
        colours = source_colours(provenance)
        t, lo, hi = peaks(audio, sample_rate)
        if len(t):
            scale = 1.0 / max(1e-6, float(max(np.abs(lo).max(), np.abs(hi).max())))
            width = (t[1] - t[0]) * 0.9 if len(t) > 1 else 1.0 / sample_rate
            brushes = [pg.mkBrush(c) for c in colours_at(provenance, colours, t)]
            # Keep a hairline for silent stretches so the take never looks empty.
            height = np.maximum((hi - lo) * scale, 0.01)
            bars = pg.BarGraphItem(
                x=t, y0=lo * scale, height=height, width=width, brushes=brushes, pen=None
            )
            self._add(bars)
            self.point_count = len(t)
        duration = len(audio[0]) / sample_rate if np.ndim(audio) == 2 else len(audio) / sample_rate
        self._add_band(provenance, colours, duration)
        self._add(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(theme.colour("border"))))
        self.setXRange(0, max(duration, 1e-3), padding=0.01)

    def _add_band(
        self, provenance: Provenance, colours: Mapping[str, str], duration: float
    ) -> None:
        x0: list[float] = []
        x1: list[float] = []
        y0: list[float] = []
        y1: list[float] = []
        brushes = []
        span = BAND_TOP - BAND_BOTTOM
        slots = provenance.timeline
        if not slots:  # no timeline: one full-length band split by overall share
            shares = provenance.song_shares()
            slots_src = [(0.0, duration, tuple(shares.items()))]
        else:
            slots_src = [(s.start_s, s.end_s, s.sources) for s in slots]
        for start, end, sources in slots_src:
            total = sum(f for _sid, f in sources) or 1.0
            bottom = BAND_BOTTOM
            for sid, fraction in sources:
                h = span * fraction / total
                x0.append(start)
                x1.append(end)
                y0.append(bottom)
                y1.append(bottom + h)
                brushes.append(pg.mkBrush(colours.get(sid, UNKNOWN_COLOUR)))
                bottom += h
        if x0:
            band = pg.BarGraphItem(
                x0=x0,
                x1=x1,
                y0=y0,
                y1=y1,
                brushes=brushes,
                pen=pg.mkPen(theme.colour("surface"), width=1),
            )
            self._add(band)

    def _add(self, item: pg.GraphicsObject) -> None:
        self.addItem(item)
        self._items.append(item)

    def set_playhead(self, seconds: float | None) -> None:
        if seconds is None:
            self.playhead.hide()
        else:
            self.playhead.setPos(seconds)
            self.playhead.show()


WEIGHT_SHARE_GAP = 0.02  # shares this far from the weights are explained


class LegendWidget(QWidget):
    """A swatch, the song and its share of the take, one line per referenced song."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._grid)
        self.entries: list[str] = []  # the plain text of each line, for tests and accessibility
        self.why = ""  # why shares differ from the weights, when they do

    def clear(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.entries = []

    def show_shares(
        self,
        provenance: Provenance,
        songs: Mapping[str, Song],
        weights: Mapping[str, float] | None = None,
    ) -> None:
        """One line per song: swatch, name, the weight asked for (``weights``: song → its
        fraction of the references' total weight) and the share it got, and a line saying why
        they differ when they do."""
        self.clear()
        weights = weights or {}
        colours = source_colours(provenance)
        shares = provenance.song_shares()
        ranked = sorted(
            ((sid, s) for sid, s in shares.items() if sid != USER_SOURCE), key=lambda kv: -kv[1]
        )
        for row, (sid, share) in enumerate(ranked):
            song = songs.get(sid)
            name = f"{song.title} — {song.artist}" if song else sid
            swatch = QLabel()
            swatch.setFixedSize(12, 12)
            swatch.setStyleSheet(f"background:{colours.get(sid, UNKNOWN_COLOUR)};border-radius:3px")
            label: QLabel = ElidedLabel(
                name
            )  # a long title ends in "…" rather than widen the window
            label.setToolTip(song.describe() if song else sid)
            pct = QLabel(f"{share * 100:.1f} %")
            pct.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            pct.setObjectName("shareValue")
            if sid in weights:
                asked = QLabel(f"weight {weights[sid] * 100:.0f} % →")
                asked.setObjectName("hint")
                asked.setToolTip("The part of the references' total weight you gave this song")
                self._grid.addWidget(asked, row, 2)
            pct.setToolTip("The part of the take this song is heard in, and paid by")
            self._grid.addWidget(swatch, row, 0)
            self._grid.addWidget(label, row, 1)
            self._grid.addWidget(pct, row, 3)
            self.entries.append(f"{name} {share * 100:.1f} %")
        if has_user_audio(provenance) or provenance.user_share > 0:
            # What is heard of the user's own audio: its share of the take, owed to nobody.
            swatch = QLabel()
            swatch.setFixedSize(12, 12)
            swatch.setStyleSheet(f"background:{USER_COLOUR};border-radius:3px")
            label = QLabel(USER_LABEL)
            label.setToolTip("Your own audio as it is heard in the take (no royalties)")
            pct = QLabel(f"{provenance.user_share * 100:.1f} %")
            pct.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            pct.setObjectName("shareValue")
            row = len(ranked)
            self._grid.addWidget(swatch, row, 0)
            self._grid.addWidget(label, row, 1)
            self._grid.addWidget(pct, row, 3)
            self.entries.append(f"{USER_LABEL} {provenance.user_share * 100:.1f} %")
        self.why = ""
        if any(abs(weights.get(sid, share) - share) > WEIGHT_SHARE_GAP for sid, share in ranked):
            self.why = (
                "Shares are the parts of the take each song is heard in (and paid by); they "
                "follow your weights as closely as the songs' material allows: the notes above "
                "say where they could not."
            )
            why = QLabel(self.why)
            why.setObjectName("hint")
            why.setWordWrap(True)
            self._grid.addWidget(why, len(ranked) + 1, 0, 1, 4)
