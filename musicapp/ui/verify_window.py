"""The Verify window: one audio file's chain of evidence, link by link, and the references it
credits.

The chain reads top to bottom as a person follows it: the file → the record it carries → the
C2PA signature over both → the ledger event that made it → the device's signature → the rights
server's receipt → the consent versions in force. Each link is green (vouched for), red (does
not hold, with the reason first) or grey (not checked here, or nothing in the file speaks to
it). Checking reads and hashes the whole file, so it runs as a job on the I/O lane; the window
stays usable if it fails, and several windows may be open at once, one per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.jobs import FunctionJob
from musicapp.ui import theme
from musicapp.ui import verify_text as words
from musicapp.ui.job_control import JobControl

if TYPE_CHECKING:
    from musicapp.export import FileReport
    from musicapp.export.links import Credit, Link
    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.services import VerifyPort

CA_FILTER = "Certificates (*.pem *.crt *.cer);;All files (*)"
COLUMNS = ("Title", "Artist", "Level", "Role", "Share")
DEFAULT_SIZE = (820, 760)
OFFLINE_LABEL = "Offline (as a third party: file + server CA only)"
PINNED_CA = "the server CA this device pinned"


def _label(text: str = "", name: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


class LinkRow(QWidget):
    """One link of the chain: its mark, its title and, below the title, why."""

    def __init__(self, link: Link, last: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.link = link
        symbol, colour, word = words.mark(link.state)
        self.mark = QLabel(symbol)
        self.mark.setObjectName("verifyMark")
        self.mark.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.mark.setFixedWidth(28)
        self.mark.setStyleSheet(f"color: {colour}; font-size: 18px; font-weight: bold;")
        self.mark.setToolTip(f"{word}: {words.STATE_TIPS.get(link.state, '')}")
        checked = link.state in ("ok", "failed")
        self.title = _label(link.title, wrap=False)
        self.title.setStyleSheet(
            f"font-weight: bold; color: {theme.colour('text' if checked else 'muted')};"
        )
        self.detail = _label(link.detail)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        detail_colour = {"ok": theme.colour("text_2"), "failed": colour}.get(link.state, colour)
        self.detail.setStyleSheet(f"color: {detail_colour}; margin-bottom: 10px;")
        # The chain's line runs down the marks' column to the next link.
        joint = QFrame()
        joint.setFixedWidth(2)
        joint.setStyleSheet(
            f"background: {'transparent' if last else theme.colour('border_strong')};"
        )
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.mark, 0, 0)
        grid.addWidget(self.title, 0, 1)
        grid.addWidget(joint, 1, 0, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(self.detail, 1, 1)
        grid.setColumnStretch(1, 1)


class VerifyWindow(QWidget):
    """Verifies one file (`start`) and shows its chain, its references and what is unproven."""

    status = Signal(str)
    verified = Signal(object)  # the FileReport
    closed = Signal()

    def __init__(
        self,
        room: VerifyPort,
        runner: JobRunner,
        path: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.path = Path(path)
        self.setWindowTitle(f"Verify — {self.path.name}")
        self.resize(*DEFAULT_SIZE)
        self._room = room
        self.report: FileReport | None = None
        self.links: list[Link] = []
        self.credits: list[Credit] = []
        self.error = ""
        self.ca: Path | None = None
        self.link_rows: list[LinkRow] = []

        self.file_label = _label(f"Verify {self.path.name}", "sectionTitle")
        self.file_label.setToolTip(str(self.path))
        self.path_label = _label(str(self.path), "hint")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = _label()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = _label()
        self.error_label.setStyleSheet(f"color: {theme.colour('bad')};")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # checking has no steps to count: a busy bar
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self._job = JobControl(runner, self, self._on_result, self._on_failed, on_end=self._on_end)

        self.chain = QVBoxLayout()
        self.chain.setSpacing(0)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("verifyReferences")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 170), (2, 90), (3, 90), (4, 80)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        self.no_references = _label("The file's record names no references.", "hint")
        self.unproven = _label()
        self.unproven.setStyleSheet(f"color: {theme.colour('warn')};")
        self.unproven.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        body = QWidget()
        body.setObjectName("verifyBody")
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 8, 0)
        column.addWidget(_label("Chain of evidence", "sectionTitle"))
        column.addLayout(self.chain)
        self.references_title = _label("References and their shares", "sectionTitle")
        column.addWidget(self.references_title)
        column.addWidget(self.table)
        column.addWidget(self.no_references)
        column.addWidget(self.unproven)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)

        self.offline = QCheckBox(OFFLINE_LABEL)
        self.offline.setToolTip(
            "Check the file without this device's ledger, as anyone who receives it would: "
            "only what the file carries and the rights server's CA certificate"
        )
        self.ca_button = QPushButton("CA certificate…")
        self.ca_button.setToolTip("The rights server's CA certificate (PEM) to check against")
        self.ca_button.clicked.connect(self.choose_ca)
        self.ca_label = _label(PINNED_CA, "hint", wrap=False)
        self.offline.toggled.connect(self._show_offline)
        options = QHBoxLayout()
        options.addWidget(self.offline)
        options.addWidget(self.ca_button)
        options.addWidget(self.ca_label, 1)
        self.again_button = QPushButton("Verify again")
        self.again_button.clicked.connect(self.start)
        self.copy_button = QPushButton("Copy report")
        self.copy_button.setToolTip("The whole report, as plain text, to the clipboard")
        self.copy_button.clicked.connect(self.copy_report)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addWidget(self.path_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.error_label)
        layout.addWidget(scroll, 1)
        layout.addLayout(options)
        layout.addLayout(buttons)
        self._show_offline(False)
        self._show_result(None)

    @property
    def busy(self) -> bool:
        return self._job.busy

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Verify the file with the options shown (unless a check of it runs already)."""
        if self._job.busy:
            return
        path, offline = self.path, self.offline.isChecked()
        ca = self.ca if offline else None
        room = self._room
        job = FunctionJob(
            f"Verify {path.name}",
            lambda _p, _c: room.verify_file(path, offline=offline, ca=ca),
            lane="io",
        )
        self.error = ""
        self.error_label.hide()
        self.summary.setText("Verifying…")
        self.summary.setStyleSheet(f"color: {theme.colour('muted')};")
        self.progress.show()
        self.again_button.setEnabled(False)
        self.status.emit(f"Verifying {path.name}…")
        self._job.start(job)

    def cancel(self) -> bool:
        return self._job.cancel()

    def _on_result(self, report: FileReport) -> None:
        try:
            links, credits = self._room.links(report), self._room.credits(report)
        except Exception as exc:  # a report the window cannot read is still said in it
            self._on_failed(exc)
            return
        self.report, self.links, self.credits = report, links, credits
        self._show_result(report)
        self.status.emit(words.summary_line(report))
        self.verified.emit(report)

    def _on_failed(self, exc: BaseException) -> None:
        self.error = str(exc) or type(exc).__name__
        self.error_label.setText(f"Verification did not run: {self.error}")
        self.error_label.show()
        report = self.report
        self.summary.setText("Not verified." if report is None else words.summary_line(report))
        self.summary.setStyleSheet(f"color: {theme.colour('bad')}; font-weight: bold;")
        self.status.emit(f"Could not verify {self.path.name}: {self.error}")

    def _on_end(self) -> None:
        self.progress.hide()
        self.again_button.setEnabled(True)

    # -- showing ---------------------------------------------------------------------------

    def _show_result(self, report: FileReport | None) -> None:
        while (item := self.chain.takeAt(0)) is not None:
            if (w := item.widget()) is not None:
                w.deleteLater()
        self.link_rows = []
        if report is None:
            self.table.setRowCount(0)
            self.table.hide()
            self.no_references.hide()
            self.unproven.hide()
            return
        summary = words.summary_line(report)
        summary += f"\n{words.OFFLINE_NOTE}" if report.offline else ""
        self.summary.setText(summary)
        self.summary.setStyleSheet(f"color: {words.tone(report)}; font-weight: bold;")
        for i, link in enumerate(self.links):
            row = LinkRow(link, i == len(self.links) - 1)
            self.chain.addWidget(row)
            self.link_rows.append(row)
        self._fill_table()
        lines = "".join(f"\n• {item}" for item in report.not_established)
        self.unproven.setText(f"Not established:{lines}" if lines else "")
        self.unproven.setVisible(bool(lines))

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.credits))
        for r, credit in enumerate(self.credits):
            for c, text in enumerate(words.credit_cells(credit)):
                item = QTableWidgetItem(text)
                item.setToolTip(credit.song_id if c == 0 else text)
                if c == 4:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(rows + self.table.horizontalHeader().height() + 4)
        self.table.setVisible(bool(self.credits))
        self.no_references.setVisible(not self.credits)

    def rows_text(self) -> list[str]:
        """The references as plain text, cells joined by " | " (for tests and accessibility)."""
        t = self.table
        return [
            " | ".join(
                item.text() if (item := t.item(r, c)) else "" for c in range(t.columnCount())
            )
            for r in range(t.rowCount())
        ]

    def report_text(self) -> str:
        return words.report_text(self.path, self.report, self.links, self.credits, self.error)

    def copy_report(self) -> None:
        """Copy report: everything the window shows, as plain text."""
        QGuiApplication.clipboard().setText(self.report_text())
        self.status.emit(f"Report on {self.path.name} copied")

    # -- offline and its CA ----------------------------------------------------------------

    def _show_offline(self, offline: bool) -> None:
        self.ca_button.setEnabled(offline)
        self.ca_button.setVisible(offline)
        self.ca_label.setVisible(offline)

    def set_ca(self, path: Path | None) -> None:
        """Check offline against `path` (None: the CA certificate this device pinned)."""
        self.ca = Path(path) if path is not None else None
        self.ca_label.setText(f"CA: {self.ca.name}" if self.ca else PINNED_CA)
        self.ca_label.setToolTip(str(self.ca) if self.ca else "")

    def choose_ca(self) -> None:
        text, _ = QFileDialog.getOpenFileName(self, "Rights server CA certificate", "", CA_FILTER)
        if text:
            self.set_ca(Path(text))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Closing the window stops its check: nobody would see the answer."""
        self._job.cancel()
        self.closed.emit()
        super().closeEvent(event)
