"""File → Audit a file…: which catalogue songs are in any audio file, found from the audio alone.

Non-modal, so the catalogue stays at hand for looking up what it found; the audit runs as the
studio's job on its lane, with progress and Cancel like every other job in the window.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.jobs import Progress
from musicapp.ui import audit_text as words
from musicapp.ui import theme
from musicapp.ui.job_control import PROGRESS_STEPS, JobControl

if TYPE_CHECKING:
    from musicapp.studio_types import AuditResult
    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.services import AuditPort

TOP_SONGS = 8
COLUMNS = ("Song", "Share", "Found")
FOUND_TIP = "Found outright: the fingerprints found the song's recording itself in the file"


class AuditFileDialog(QDialog):
    """Audits one file (`start`) and shows its top songs, its findings with their time ranges,
    what it could not attribute, and how it was audited."""

    status = Signal(str)
    audited = Signal(object)  # the AuditResult

    def __init__(
        self,
        room: AuditPort,
        runner: JobRunner,
        name_of: words.NameOf,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit a file")
        self.resize(660, 620)
        self._room, self._name_of = room, name_of
        self.path: Path | None = None
        self.audit_result: AuditResult | None = None

        self.file_label = QLabel()
        self.file_label.setObjectName("sectionTitle")
        self.file_label.setWordWrap(True)
        self.stage = QLabel()
        self.stage.setObjectName("hint")
        self.stage.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self._job = JobControl(
            runner,
            self,
            self._on_result,
            self._on_failed,
            on_cancel=self._on_cancelled,
            on_progress=self._on_progress,
            on_end=self._on_end,
            bar=self.progress,
            cancel_button=self.cancel_button,
        )
        self.cancel_button.clicked.connect(self._job.cancel)
        run_row = QHBoxLayout()
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.cancel_button)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("auditFileTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        self.table.setMinimumHeight(150)  # the top songs stay readable beside many findings
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 70), (2, 60)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        if (found_header := self.table.horizontalHeaderItem(2)) is not None:
            found_header.setToolTip(FOUND_TIP)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.findings = QLabel()
        self.findings.setObjectName("auditFindings")
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setWordWrap(True)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.method = QLabel()
        self.method.setObjectName("hint")
        self.method.setWordWrap(True)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addLayout(run_row)
        layout.addWidget(self.stage)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.findings)
        layout.addWidget(self.method)
        layout.addLayout(bottom)
        self._show_result_parts(False)

    @property
    def busy(self) -> bool:
        return self._job.busy

    def start(self, path: Path) -> None:
        """Audit `path` (unless an audit runs already: one at a time per window)."""
        if self._job.busy:
            return
        self.path, self.audit_result = Path(path), None
        self.file_label.setText(f"Audit of {self.path.name}")
        self.file_label.setToolTip(str(self.path))
        self.stage.setText("Starting…")
        self.stage.show()
        self._show_result_parts(False)
        self.progress.show()
        self.cancel_button.show()
        try:
            job = self._room.audit_file_job(self.path)
        except Exception as exc:  # a room that cannot start still answers in the window
            self._on_failed(exc)
            self._on_end()
            return
        self.status.emit(f"Auditing {self.path.name}…")
        self._job.start(job)

    def cancel(self) -> bool:
        return self._job.cancel()

    def _show_result_parts(self, shown: bool) -> None:
        for w in (self.summary, self.table, self.findings, self.method):
            w.setVisible(shown)

    def _on_progress(self, p: Progress) -> None:
        self.stage.setText(p.message or p.stage or "Auditing…")
        self.stage.show()

    def _on_result(self, result: AuditResult) -> None:
        self.audit_result = result
        top = result.top(TOP_SONGS)
        n = len(result.found_songs())
        if top:
            found = f"{n} recording{'s' if n != 1 else ''} found outright" if n else "none outright"
            self.summary.setText(f"Catalogue songs heard in {result.duration_s:.1f} s ({found}):")
        else:
            self.summary.setText("No catalogue song was found in this file.")
        self.table.setRowCount(len(top))
        for r, (song_id, share) in enumerate(top):
            name = self._name_of(song_id)
            found = words.found_line(result.findings, song_id, name)
            cells = (name, words.percent(share), words.found_mark(result.findings, song_id))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"Found outright at {found}" if c == 2 and found else name)
                if c in (1, 2):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if c == 2:
                    item.setForeground(QBrush(theme.qcolour("ok")))
                self.table.setItem(r, c, item)
        lines = [
            words.finding_text(f, self._name_of(f.song_id), "the file")
            for f in sorted(result.findings, key=lambda f: f.start_s)
        ]
        self.findings.setText(
            "<p style='margin:0'><b>Found outright</b> (fingerprints), in the file:</p>"
            + "".join(f"<p style='margin:2px 0 0 12px'>{html.escape(t)}</p>" for t in lines)
        )
        self.findings.setVisible(bool(lines))
        parts = [
            f"Not attributed: {words.percent(result.unattributed)}",
            f"audit by {result.method}",
            f"embeddings: {result.embedder or 'none'}",
        ]
        if result.catalogue_songs:
            parts.append(f"{result.catalogue_songs} catalogue songs indexed")
        self.method.setText(" · ".join(parts) + "".join(f"\n• {n}" for n in result.notes))
        self._show_result_parts(True)
        self.findings.setVisible(bool(lines))
        self.stage.setText("")
        self.stage.hide()
        self.status.emit(f"Audit of {self.path.name if self.path else 'the file'} finished")
        self.audited.emit(result)

    def rows_text(self) -> list[str]:
        """The top songs as plain text, cells joined by " | " (for tests and accessibility)."""
        t = self.table
        return [
            " | ".join(
                item.text() if (item := t.item(r, c)) else "" for c in range(t.columnCount())
            )
            for r in range(t.rowCount())
        ]

    def _on_failed(self, exc: BaseException) -> None:
        self.stage.setText(f"The audit failed: {exc}")
        self.stage.show()
        self.status.emit(f"Audit failed: {exc}")

    def _on_cancelled(self) -> None:
        self.stage.setText("The audit was cancelled.")
        self.stage.show()
        self.status.emit("Audit cancelled")

    def _on_end(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def done(self, code: int) -> None:
        """Closing the window stops its audit: nobody would see the answer."""
        self._job.cancel()
        super().done(code)
