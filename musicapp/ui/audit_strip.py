"""A compact strip of which song sounds where: by design (the provenance timeline) over the
audit (each segment's strongest influence), on one time axis, so a gap shows at a glance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from musicapp.core import USER_SOURCE, Provenance
from musicapp.studio_types import AuditResult
from musicapp.ui import theme

# (start s, end s, song id or None for nothing attributed)
Cell = tuple[float, float, str | None]

LABEL_W = 74
ROW_H = 14
ROW_GAP = 5
AXIS_H = 14
# Nothing attributed there: a pale fill with an outline, so it reads as "empty", not as a song.
MIN_INFLUENCE = 0.1  # a segment whose strongest song is weaker than this counts as unattributed


def design_cells(provenance: Provenance, duration_s: float) -> list[Cell]:
    """Each timeline slot's loudest source (the user's own audio counts as none: no song)."""
    cells: list[Cell] = []
    for slot in sorted(provenance.timeline, key=lambda s: s.start_s):
        top = max(slot.sources, key=lambda sf: sf[1], default=None)
        sid = top[0] if top is not None and top[0] != USER_SOURCE else None
        cells.append((slot.start_s, min(slot.end_s, duration_s), sid))
    return cells


def audit_cells(result: AuditResult) -> list[Cell]:
    """Each audited segment's strongest song, or None where the audit attributed (almost)
    nothing."""
    cells: list[Cell] = []
    for seg in result.segments:
        top = max(seg.influence.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        sid = top[0] if top is not None and top[1] >= MIN_INFLUENCE else None
        cells.append((seg.start_s, seg.end_s, sid))
    return cells


class AuditStripWidget(QWidget):
    """Two painted rows, "By design" over "Audit"; colours are the waveform's song colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditStrip")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.design: list[Cell] = []
        self.audit: list[Cell] = []
        self._colours: Mapping[str, str] = {}
        self._duration = 0.0

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(300, 2 * ROW_H + ROW_GAP + AXIS_H + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.sizeHint()

    def show_cells(
        self,
        design: Sequence[Cell],
        audit: Sequence[Cell],
        colours: Mapping[str, str],
        duration_s: float,
    ) -> None:
        self.design, self.audit = list(design), list(audit)
        self._colours, self._duration = dict(colours), max(duration_s, 1e-3)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        width = max(1, self.width() - LABEL_W - 4)
        for row, (label, cells) in enumerate((("By design", self.design), ("Audit", self.audit))):
            top = row * (ROW_H + ROW_GAP)
            painter.setPen(QColor(theme.colour("text_2")))
            painter.drawText(
                QRectF(0, top, LABEL_W - 6, ROW_H),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )
            self._paint_row(painter, cells, top, width)
        axis_top = 2 * ROW_H + ROW_GAP + 1
        painter.setPen(QColor(theme.colour("faint")))
        flags = int(Qt.AlignmentFlag.AlignTop)
        painter.drawText(QRectF(LABEL_W, axis_top, 60, AXIS_H), flags, "0 s")
        painter.drawText(
            QRectF(LABEL_W + width - 60, axis_top, 60, AXIS_H),
            flags | int(Qt.AlignmentFlag.AlignRight),
            f"{self._duration:.0f} s",
        )
        painter.end()

    def _paint_row(self, painter: QPainter, cells: Sequence[Cell], top: int, width: int) -> None:
        scale = width / self._duration
        painter.setPen(QPen(theme.qcolour("border_strong"), 1))
        painter.setBrush(theme.qcolour("surface_alt"))
        painter.drawRect(QRectF(LABEL_W, top, width - 1, ROW_H - 1))
        painter.setPen(Qt.PenStyle.NoPen)
        for start, end, sid in cells:
            if sid is None:
                continue
            x0, x1 = LABEL_W + start * scale, LABEL_W + min(end, self._duration) * scale
            painter.setBrush(QColor(self._colours.get(sid, theme.colour("faint"))))
            # A one-pixel pale seam between cells keeps neighbouring seconds apart.
            painter.drawRect(QRectF(x0, top, max(1.0, x1 - x0 - 1), ROW_H - 1))
