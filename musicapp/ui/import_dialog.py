"""File → Import music…: a folder (and optionally a manifest) into the catalogue, with a report.

The import is the same job the `musicapp import` command runs (`studio.library.import_job`), on the io
lane, so the window stays responsive; Cancel stops between files and keeps what was imported.
The report says what a user needs to act on: how many songs arrived, whose rights a manifest
changed and how, how many were already there, and each file that failed with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.jobs import Job, Progress
from musicapp.ui import theme
from musicapp.ui.job_control import JobControl
from musicapp.ui.job_runner import JobHandle, JobRunner

if TYPE_CHECKING:
    from musicapp.catalog.import_report import ImportReport

log = logging.getLogger(__name__)

# Makes the import job for (folder, manifest or None): studio.library.import_job, or
# catalog.importer.import_job bound to a catalogue store.
ImportJobFactory = Callable[[Path, Path | None], "Job[ImportReport]"]


def _path_row(edit: QLineEdit, button: QPushButton) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return row


class ImportDialog(QDialog):
    """Choose what to import, watch it run, read what happened.

    Emits `catalogue_changed()` once an import ends having added songs (finished or cancelled
    part-way), so the browser can refresh its tree and filter choices.
    """

    catalogue_changed = Signal()

    def __init__(
        self, runner: JobRunner, make_job: ImportJobFactory, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import music")
        self.setObjectName("importDialog")
        self.resize(640, 460)
        self._runner = runner
        self._make_job = make_job
        self.report: ImportReport | None = None

        intro = QLabel(
            "Import a folder of audio files (WAV, FLAC, OGG, MP3, AIFF; subfolders too). A "
            "manifest (CSV or JSON) can name each file's song, rights holders and consent; "
            "files it does not describe are imported with no consent, so no use is allowed "
            "until their rights holders are registered."
        )
        intro.setWordWrap(True)
        intro.setObjectName("hint")

        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("importFolder")
        self.folder_edit.setPlaceholderText("Folder of audio files")
        self.folder_button = QPushButton("Choose…")
        self.manifest_edit = QLineEdit()
        self.manifest_edit.setObjectName("importManifest")
        self.manifest_edit.setPlaceholderText("Optional: manifest.csv or manifest.json")
        self.manifest_button = QPushButton("Choose…")
        form = QFormLayout()
        form.addRow("Folder", _path_row(self.folder_edit, self.folder_button))
        form.addRow("Manifest", _path_row(self.manifest_edit, self.manifest_button))

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setVisible(False)
        self.stage_label = QLabel()
        self.stage_label.setObjectName("hint")
        self.stage_label.setWordWrap(True)

        self.summary_label = QLabel()
        self.summary_label.setObjectName("importSummary")
        self.summary_label.setWordWrap(True)
        self.changes_label = QLabel()
        self.changes_label.setObjectName("importChanges")
        self.changes_label.setWordWrap(True)
        self.changes_label.setVisible(False)
        self.failed_table = QTableWidget(0, 2)
        self.failed_table.setObjectName("failedFiles")
        self.failed_table.setHorizontalHeaderLabels(["File that failed", "Why"])
        self.failed_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.failed_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.failed_table.setWordWrap(True)
        self.failed_table.verticalHeader().setVisible(False)
        header = self.failed_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.failed_table.setColumnWidth(0, 260)
        self.failed_table.setVisible(False)

        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setObjectName("importButton")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.changes_label)
        layout.addWidget(self.failed_table, 1)
        layout.addStretch(0)
        layout.addWidget(self.buttons)

        self.folder_button.clicked.connect(self._choose_folder)
        self.manifest_button.clicked.connect(self._choose_manifest)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button.clicked.connect(self.reject)
        self._import_job = JobControl(
            runner,
            self,
            on_result=self._on_finished,
            on_failure=self._on_failed,
            on_cancel=self._on_cancelled,
            on_progress=self._on_progress,
            on_end=self._on_done,
            bar=self.progress_bar,
            cancel_button=self.cancel_button,
        )
        self.close_button.clicked.connect(self.accept)
        self.folder_edit.textChanged.connect(self._update_import_button)
        self._update_import_button()

    # -- choosing -------------------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to import", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _choose_manifest(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Manifest",
            self.manifest_edit.text() or self.folder_edit.text(),
            "Manifests (*.csv *.json);;All files (*)",
        )
        if path:
            self.manifest_edit.setText(path)

    def set_paths(self, folder: Path | str, manifest: Path | str | None = None) -> None:
        self.folder_edit.setText(str(folder))
        self.manifest_edit.setText(str(manifest) if manifest else "")

    def _update_import_button(self, *_: object) -> None:
        self.import_button.setEnabled(self.handle is None and bool(self.folder_edit.text().strip()))

    # -- running --------------------------------------------------------------------------

    def start_import(self) -> None:
        """Submit the import job on the io lane (the folder and manifest as typed)."""
        if self.handle is not None:
            return
        folder = self.folder_edit.text().strip()
        if not folder:
            return
        manifest_text = self.manifest_edit.text().strip()
        try:
            job = self._make_job(Path(folder), Path(manifest_text) if manifest_text else None)
        except Exception as exc:  # a bad path or manifest read up front: say so, stay open
            self._show_problem(f"The import could not start: {exc}")
            return
        self.report = None
        self.summary_label.clear()
        self.changes_label.clear()
        self.changes_label.setVisible(False)
        self.failed_table.setRowCount(0)
        self.failed_table.setVisible(False)
        self.progress_bar.setVisible(True)
        self.stage_label.setText("Starting…")
        self._set_running(True)
        self._import_job.start(job)

    @property
    def handle(self) -> JobHandle | None:
        return self._import_job.handle

    def cancel_import(self) -> None:
        """Ask the import to stop after the file it is on (those done stay imported)."""
        if self._import_job.cancel():
            self.stage_label.setText("Cancelling after the current file…")

    def reject(self) -> None:
        """Cancel (the button, Esc, the window's close box): stops a running import first."""
        if self.handle is not None:
            self.cancel_import()
            return
        super().reject()

    def _set_running(self, running: bool) -> None:
        for w in (self.folder_edit, self.folder_button, self.manifest_edit, self.manifest_button):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(running or self.report is None)
        self.close_button.setVisible(not running and self.report is not None)
        self._update_import_button()

    def _on_progress(self, p: Progress) -> None:
        self.stage_label.setText(f"Importing {p.message}" if p.message else "Importing…")

    def _on_finished(self, report: Any) -> None:
        self.progress_bar.setValue(1000)
        self.stage_label.setText("Done.")
        self.show_report(report)

    def _on_failed(self, exc: BaseException) -> None:
        self._show_problem(f"The import stopped: {exc}")

    def _on_cancelled(self) -> None:
        self.stage_label.setText(
            "Import cancelled. The files imported before it stopped stay in the catalogue."
        )
        # The job returns no report when cancelled, so some songs may be new: refresh anyway.
        self.catalogue_changed.emit()

    def _on_done(self) -> None:
        self.progress_bar.setVisible(self.report is not None)
        self._set_running(False)

    def _show_problem(self, text: str) -> None:
        self.stage_label.setText(
            f"<span style='color:{theme.colour('bad')}'>{_escape(text)}</span>"
        )

    # -- the report -----------------------------------------------------------------------

    def show_report(self, report: ImportReport) -> None:
        """Counts on one line, the songs whose rights changed and how, then the failed files
        with their reasons."""
        self.report = report
        counts = report.to_dict()["counts"]
        parts = [
            f"<b>{counts['imported']}</b> imported",
            f"<b>{counts.get('updated', 0)}</b> rights updated",
            f"<b>{counts['unchanged']}</b> skipped (already in the catalogue, unchanged)",
            f"<b>{counts['failed']}</b> failed",
        ]
        self.summary_label.setText(" · ".join(parts))
        updated = report.updated
        shown = [f"{_escape(u.song_id)}: {_escape('; '.join(u.changes))}" for u in updated[:20]]
        if len(updated) > 20:
            shown.append(f"… and {len(updated) - 20} more")
        self.changes_label.setText("<br>".join(shown))
        self.changes_label.setVisible(bool(shown))
        failed = report.failed
        self.failed_table.setRowCount(len(failed))
        for row, f in enumerate(failed):
            path = QTableWidgetItem(Path(f.path).name)
            path.setToolTip(f.path)
            reason = QTableWidgetItem(f.reason)
            reason.setToolTip(f.reason)
            self.failed_table.setItem(row, 0, path)
            self.failed_table.setItem(row, 1, reason)
        self.failed_table.resizeRowsToContents()
        self.failed_table.setVisible(bool(failed))
        if report.imported or updated:
            self.catalogue_changed.emit()

    def failed_rows(self) -> list[tuple[str, str]]:
        """The failed-files table as (file name, reason) rows (what the user reads)."""
        table = self.failed_table

        def text(row: int, column: int) -> str:
            item = table.item(row, column)
            return item.text() if item is not None else ""

        return [(text(r, 0), text(r, 1)) for r in range(table.rowCount())]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
