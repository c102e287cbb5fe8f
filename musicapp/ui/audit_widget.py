"""The take's audit beside its attribution by design: per song, where they agree and where not.

The attribution by design is what royalties follow; the audit (``studio.audit``) hears the take
without knowing how it was made. Showing the two side by side, with each disagreement in words,
lets the user and the rights holders see that the by-design record holds, or where it does not.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.jobs import Progress
from musicapp.ui import audit_text as words
from musicapp.ui import theme
from musicapp.ui.audit_strip import AuditStripWidget, audit_cells, design_cells
from musicapp.ui.job_control import PROGRESS_STEPS, JobControl
from musicapp.ui.waveform_widget import SOURCE_COLOURS, UNKNOWN_COLOUR, source_colours

if TYPE_CHECKING:
    from musicapp.studio_types import AuditResult, Comparison
    from musicapp.takes import Take
    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.services import TakePort

log = logging.getLogger(__name__)

COLUMNS = ("Song", "By design", "Audit", "Found")
FOUND_TIP = "Found outright: the fingerprints found the song's recording itself in the take"
REST_LABEL = "Your audio / unattributed"
REST_TIP = (
    "By design: the part of the take that is your own audio (no royalties). Audit: what it "
    "could not attribute to any catalogue song."
)
NO_AUDIT = (
    "This take has no audit: audits were off when it was made, or the audit failed. "
    "An audit listens to the take and finds which catalogue songs are in it, to check the "
    "attribution by design."
)


def no_audit_text(take: Take) -> str:
    if not take.audit_note:
        return NO_AUDIT
    # An exception without a message leaves "…did not finish: " behind: end the sentence there.
    note = take.audit_note.strip().rstrip(":.").strip()
    note = note[0].upper() + note[1:]
    return f"{note}. {NO_AUDIT.split('. ', 1)[1]}"


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(10, 10)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def song_colours(take: Take, comparison: Comparison) -> dict[str, str]:
    """The waveform's colour for each referenced song; songs only the audit hears get the next
    free colours, so the strip and the table match the waveform above them."""
    colours = source_colours(take.provenance)
    for row in comparison.rows:
        if row.song_id not in colours:
            used = len(colours) - 1  # the waveform's palette, the user's grey aside
            colours[row.song_id] = SOURCE_COLOURS[used % len(SOURCE_COLOURS)]
    return colours


class AuditWidget(QWidget):
    """The comparison of one take (table, verdict line, disagreements, rest, method), or, when
    the take has no audit, a note and "Audit now" (the take's audit job on the compute lane)."""

    status = Signal(str)  # a line for the status bar
    audited = Signal(object)  # the AuditResult an "Audit now" produced
    changed = Signal()  # what it shows changed (the tab title follows: `tab_title`)

    PAGE_NONE, PAGE_AUDIT = 0, 1

    def __init__(self, service: TakePort, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.take: Take | None = None
        self.comparison: Comparison | None = None
        self.result: AuditResult | None = None

        self.none_label = QLabel(NO_AUDIT)
        self.none_label.setObjectName("hint")
        self.none_label.setWordWrap(True)
        self.audit_button = QPushButton("Audit now")
        self.audit_button.setObjectName("auditNowButton")
        self.audit_button.setToolTip("Audit this take against the catalogue (a few seconds)")
        self.audit_button.clicked.connect(self.audit_now)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self._job = JobControl(
            runner,
            self,
            self._on_audited,
            self._on_audit_failed,
            on_cancel=self._on_audit_cancelled,
            on_progress=self._on_progress,
            on_end=self._on_audit_done,
            bar=self.progress,
            cancel_button=self.cancel_button,
        )
        self.cancel_button.clicked.connect(self._job.cancel)
        run_row = QHBoxLayout()
        run_row.addWidget(self.audit_button)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.cancel_button)
        run_row.addStretch(0)
        none_page = QWidget()
        none_layout = QVBoxLayout(none_page)
        none_layout.setContentsMargins(0, 0, 0, 0)
        none_layout.addWidget(self.none_label)
        none_layout.addLayout(run_row)
        none_layout.addStretch(1)

        self.verdict = QLabel()
        self.verdict.setObjectName("auditVerdict")
        self.verdict.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("auditTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = header.fontMetrics()
        for col, width in ((1, 80), (2, 64), (3, 56)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            # Never narrower than its title (fonts differ between platforms).
            header.resizeSection(col, max(width, metrics.horizontalAdvance(COLUMNS[col]) + 20))
        if (found_header := self.table.horizontalHeaderItem(3)) is not None:
            found_header.setToolTip(FOUND_TIP)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.strip = AuditStripWidget()
        self.found = QLabel()
        self.found.setObjectName("auditFound")
        self.found.setTextFormat(Qt.TextFormat.RichText)
        self.found.setWordWrap(True)
        self.explanations = QLabel()
        self.explanations.setObjectName("auditDisagreements")
        self.explanations.setTextFormat(Qt.TextFormat.RichText)
        self.explanations.setWordWrap(True)
        self.method = QLabel()
        self.method.setObjectName("hint")
        self.method.setWordWrap(True)
        audit_page = QWidget()
        audit_layout = QVBoxLayout(audit_page)
        audit_layout.setContentsMargins(0, 0, 0, 0)
        audit_layout.setSpacing(6)
        audit_layout.addWidget(self.verdict)
        audit_layout.addWidget(self.table)
        audit_layout.addWidget(self.explanations)
        audit_layout.addWidget(self.found)
        audit_layout.addWidget(self.strip)
        audit_layout.addWidget(self.method)

        self.pages = QStackedWidget()
        self.pages.addWidget(none_page)
        self.pages.addWidget(audit_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    # -- what the panel shows ----------------------------------------------------------------

    def name_of(self, song_id: str) -> str:
        try:
            song = self._service.song(song_id)
        except Exception:  # a song gone from the catalogue still has an id to show
            song = None
        return words.song_name(song, song_id)

    def show_take(self, take: Take) -> None:
        """The take's logged audit beside its attribution by design, or "Audit now"."""
        self.take = take
        try:
            room = self._service.audit
            result = take.audit or room.of_take(take.id)
            comparison = room.comparison(take) if result is not None else None
        except Exception:  # the take must still show when its audit cannot be read
            log.exception("could not read the audit of take %s", take.id)
            result = comparison = None
        # Why it has none, when the studio knows (the audit failed as the take was made).
        self.none_label.setText(no_audit_text(take))
        self._show(take, result, comparison)

    def _show(self, take: Take, result: AuditResult | None, comparison: Comparison | None) -> None:
        self.result, self.comparison = result, comparison
        if result is None or comparison is None:
            self.pages.setCurrentIndex(self.PAGE_NONE)
            self.changed.emit()
            return
        colours = song_colours(take, comparison)
        self._fill_table(take, result, comparison, colours)
        ok = comparison.agrees
        mark = "✓" if ok else "✗"
        colour = theme.colour("ok") if ok else theme.colour("bad")
        self.verdict.setText(f"{mark} {words.summary(comparison)}")
        self.verdict.setStyleSheet(f"color:{colour};font-weight:600")
        self.verdict.setProperty("agrees", ok)
        self.explanations.setText(self._explanations(comparison))
        self.explanations.setVisible(not ok)
        self.found.setText(self._found_text(result, comparison))
        self.found.setVisible(bool(result.findings))
        self.strip.show_cells(
            design_cells(take.provenance, take.duration_s),
            audit_cells(result),
            colours,
            take.duration_s,
        )
        self.strip.setVisible(bool(take.provenance.timeline or result.segments))
        self.method.setText(self._method_text(result, comparison))
        self.pages.setCurrentIndex(self.PAGE_AUDIT)
        self.changed.emit()

    def tab_title(self) -> str:
        """Audit, with its verdict: a disagreement shows even while another tab is open."""
        c = self.comparison
        if c is None:
            return "Audit"
        if c.agrees:
            return "Audit ✓ nothing reused" if c.new_notes else "Audit ✓ agrees"
        n = sum(1 for r in c.rows if words.disagreement(r, c))
        return f"Audit ✗ {n} disagree{'s' if n == 1 else ''}"

    def _fill_table(
        self,
        take: Take,
        result: AuditResult,
        comparison: Comparison,
        colours: Mapping[str, str],
    ) -> None:
        rows = comparison.rows
        self.table.setRowCount(len(rows) + 1)
        for r, row in enumerate(rows):
            why = words.disagreement(row, comparison)
            name = self.name_of(row.song_id)
            found = words.found_line(result.findings, row.song_id, name)
            cells = (
                name,
                words.percent(row.by_design) if row.by_design > 0 else "—",
                words.percent(row.audit) if row.audit > 0 else "—",
                words.found_mark(result.findings, row.song_id),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                tip = f"{name}: {why}" if why else name
                item.setToolTip(f"Found outright at {found}" if c == 3 and found else tip)
                if c in (1, 2, 3):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if why:
                    item.setBackground(QBrush(QColor(theme.colour("bad_soft"))))
                    if c == 0:
                        item.setForeground(QBrush(QColor(theme.colour("bad"))))
                if c == 0:
                    item.setIcon(_swatch(colours.get(row.song_id, UNKNOWN_COLOUR)))
                if c == 3 and found:
                    item.setForeground(QBrush(QColor(theme.colour("ok"))))
                self.table.setItem(r, c, item)
        design_rest = max(0.0, 1.0 - sum(take.provenance.song_shares().values()))
        rest = (REST_LABEL, words.percent(design_rest), words.percent(result.unattributed), "")
        last = len(rows)
        for c, text in enumerate(rest):
            item = QTableWidgetItem(text)
            item.setToolTip(REST_TIP)
            item.setForeground(QBrush(QColor(theme.colour("muted"))))
            if c in (1, 2):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(last, c, item)
        # As tall as its rows (up to eight), like the royalty table above it.
        t = self.table
        rows_h = sum(t.rowHeight(r) for r in range(min(t.rowCount(), 8)))
        t.setFixedHeight(t.horizontalHeader().sizeHint().height() + rows_h + 2 * t.frameWidth() + 2)

    def _explanations(self, comparison: Comparison) -> str:
        lines = []
        for row in comparison.rows:
            why = words.disagreement(row, comparison)
            if why:
                name = html.escape(self.name_of(row.song_id))
                lines.append(
                    f"<p style='margin:0'><span style='color:{theme.colour('bad')}'>✗</span> "
                    f"<b>{name}</b>: {html.escape(why)}</p>"
                )
        return "".join(lines)

    def _found_text(self, result: AuditResult, comparison: Comparison) -> str:
        lines = [
            words.found_line(result.findings, row.song_id, self.name_of(row.song_id))
            for row in comparison.rows
        ]
        shown = "".join(f"<p style='margin:0 0 0 12px'>{html.escape(t)}</p>" for t in lines if t)
        return "<p style='margin:0'><b>Found outright</b> (fingerprints), in the take:</p>" + shown

    @staticmethod
    def _method_text(result: AuditResult, comparison: Comparison) -> str:
        parts = [
            f"Audit by {result.method or 'the audit'}",
            f"embeddings: {result.embedder or 'none'}",
        ]
        if result.catalogue_songs:
            parts.append(f"{result.catalogue_songs} catalogue songs indexed")
        if result.elapsed_s:
            parts.append(f"took {result.elapsed_s:.1f} s")
        parts.append(f"share difference (L1) {comparison.share_l1:.2f}")
        notes = "".join(f"\n• {n}" for n in result.notes)
        return " · ".join(parts) + notes

    def rows_text(self) -> list[str]:
        """Each table row as plain text, cells joined by " | " (for tests and accessibility)."""
        t = self.table
        return [
            " | ".join(
                item.text() if (item := t.item(r, c)) else "" for c in range(t.columnCount())
            )
            for r in range(t.rowCount())
        ]

    def disagreeing_rows(self) -> list[int]:
        """The rows shown as disagreements (highlighted)."""
        t = self.table
        return [
            r
            for r in range(t.rowCount())
            if (item := t.item(r, 0))
            and item.background().color() == QColor(theme.colour("bad_soft"))
        ]

    def clear(self) -> None:
        self.take = self.result = self.comparison = None
        self.pages.setCurrentIndex(self.PAGE_NONE)
        self.changed.emit()

    # -- Audit now ---------------------------------------------------------------------------

    def audit_now(self) -> None:
        """Audit the shown take (the room logs it); the panel shows it when it is done."""
        take = self.take
        if take is None or self._job.busy:
            return
        try:
            job = self._service.audit.audit_take_job(take.id)
        except Exception as exc:
            self._on_audit_failed(exc)
            return
        self.audit_button.setEnabled(False)
        self.progress.show()
        self.cancel_button.show()
        self.none_label.setText("Auditing the take…")
        self.status.emit("Auditing the take…")
        self._job.start(job)

    def _on_progress(self, p: Progress) -> None:
        if p.message:
            self.none_label.setText(p.message)

    def _on_audited(self, result: AuditResult) -> None:
        take = self.take
        if take is None:
            return
        self.show_take(take)
        if self.result is None:  # the room has no comparison for it: show the audit alone
            self.none_label.setText("The audit finished but could not be compared with the take.")
        self.status.emit("Audit finished")
        self.audited.emit(result)

    def _on_audit_failed(self, exc: BaseException) -> None:
        self.none_label.setText(f"The audit failed: {exc}")
        self.status.emit(f"Audit failed: {exc}")

    def _on_audit_cancelled(self) -> None:
        self.none_label.setText(NO_AUDIT if self.take is None else no_audit_text(self.take))
        self.status.emit("Audit cancelled")

    def _on_audit_done(self) -> None:
        self.audit_button.setEnabled(True)
        self.progress.hide()
        self.cancel_button.hide()
