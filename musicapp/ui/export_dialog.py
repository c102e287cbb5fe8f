"""File → Export take…: how the take leaves the app, in one dialog a producer recognises.

Format (WAV, FLAC, MP3), bit depth and dither, sample rate, mono or stereo, loudness
normalisation under a true-peak ceiling, the take's stems beside the mix, the folder and a
file-name template with a live preview of the name. Every file carries the take's attribution
and its own ledger event (``rooms/exports.py``); the choices are kept for the next export.
The dialog only builds an ``ExportPlan``; the result panel runs it as a job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import InvalidInput
from musicapp.rooms.exports import (
    CEILING_RANGE,
    DEFAULT_CEILING_DBTP,
    DEFAULT_TARGET_LUFS,
    DEFAULT_TEMPLATE,
    EXPORT_RATES,
    LOUDNESS_RANGE,
    TEMPLATE_FIELDS,
    ExportPlan,
    Mastering,
)
from musicapp.ui import kept, theme

if TYPE_CHECKING:
    from musicapp.takes import Take
    from musicapp.ui.services import ExportsPort

FORMATS = (("WAV", ".wav"), ("FLAC", ".flac"), ("MP3", ".mp3"))
MP3_RATES = (32000, 44100, 48000)
BITRATES = (320, 256, 192, 128)
SETTINGS_GROUP = "export"


def _khz(rate: int) -> str:
    return f"{rate / 1000:g} kHz"


class ExportDialog(QDialog):
    """Builds the ExportPlan for one take; ``plan()`` after ``exec()`` is accepted."""

    def __init__(
        self, exports: ExportsPort, take: Take, folder: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export take")
        self._exports, self._take = exports, take
        self._path = Path()  # the file the plan writes, once problem() found none

        self.format = QComboBox()
        for label, suffix in FORMATS:
            self.format.addItem(label, suffix)
        self.bits = QComboBox()
        self.bits.addItem("24-bit", 24)
        self.bits.addItem("16-bit (CD)", 16)
        self.bitrate = QComboBox()
        for kbps in BITRATES:
            self.bitrate.addItem(f"{kbps} kbit/s", kbps)
        self.dither = QCheckBox("Dither (TPDF) when reducing the depth")
        self.dither.setChecked(True)
        self.rate = QComboBox()
        self.rate.addItem(f"As made ({_khz(take.sample_rate)})", 0)
        for rate in EXPORT_RATES:
            if rate != take.sample_rate:
                self.rate.addItem(_khz(rate), rate)
        self.channels = QComboBox()
        self.channels.addItem("As made", 0)
        self.channels.addItem("Stereo", 2)
        self.channels.addItem("Mono", 1)

        self.normalise = QCheckBox("Normalise loudness")
        self.lufs = _spin(LOUDNESS_RANGE, DEFAULT_TARGET_LUFS, " LUFS", "Integrated loudness")
        self.ceiling = _spin(CEILING_RANGE, DEFAULT_CEILING_DBTP, " dBTP", "True-peak ceiling")
        loud = QGroupBox("Loudness")
        loud_form = QFormLayout(loud)
        loud_form.addRow(self.normalise)
        loud_form.addRow("Target", self.lufs)
        loud_form.addRow("True-peak ceiling", self.ceiling)
        loud_hint = QLabel(
            "Gain only, no limiter: the level stops at the ceiling if the target needs more. "
            "Streaming services play at about −14 LUFS."
        )
        loud_hint.setObjectName("hint")
        loud_hint.setWordWrap(True)
        loud_form.addRow(loud_hint)

        self.stems = QCheckBox("Also export the take's stems (one file each, same attribution)")

        self.folder = QLineEdit(str(folder))
        self.folder.setAccessibleName("Export folder")
        choose = QPushButton("Choose…")
        choose.setAccessibleName("Choose the export folder")
        choose.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.template = QLineEdit(DEFAULT_TEMPLATE)
        self.template.setAccessibleName("File name template")
        self.template.setToolTip(
            "Fields: " + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS) + "; or a plain name"
        )
        self.preview = QLabel()
        self.preview.setObjectName("hint")
        self.preview.setWordWrap(True)

        sound = QGroupBox("Sound")
        form = QFormLayout(sound)
        form.addRow("Format", self.format)
        form.addRow("Bit depth", self.bits)
        form.addRow("", self.dither)
        form.addRow("MP3 bitrate", self.bitrate)
        form.addRow("Sample rate", self.rate)
        form.addRow("Channels", self.channels)
        files = QGroupBox("Files")
        where = QFormLayout(files)
        where.addRow("Folder", folder_row)
        where.addRow("File name", self.template)
        where.addRow("", self.preview)
        where.addRow("", self.stems)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.export_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(sound)
        layout.addWidget(loud)
        layout.addWidget(files)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)

        self._restore()
        for box in (self.format, self.bits, self.rate, self.channels, self.bitrate):
            box.currentIndexChanged.connect(self._update)
        for check in (self.normalise, self.dither, self.stems):
            check.toggled.connect(self._update)
        for edit in (self.folder, self.template):
            edit.textChanged.connect(self._update)
        self._update()

    # -- what the user chose ----------------------------------------------------------------

    def plan(self) -> ExportPlan:
        suffix = str(self.format.currentData())
        mp3 = suffix == ".mp3"
        rate = int(self.rate.currentData()) or None
        channels = int(self.channels.currentData()) or None
        changed = rate is not None or channels is not None or self.normalise.isChecked()
        mastering = None
        if changed or (not mp3 and int(self.bits.currentData()) == 16):
            mastering = Mastering(
                sample_rate=rate,
                channels=channels,
                target_lufs=self.lufs.value() if self.normalise.isChecked() else None,
                ceiling_dbtp=self.ceiling.value(),
                dither=self.dither.isChecked(),
            )
        return ExportPlan(
            Path(self.folder.text().strip()).expanduser(),
            self.template.text().strip(),
            suffix,
            bits=int(self.bits.currentData()),
            bitrate=int(self.bitrate.currentData()) if mp3 else None,
            mastering=mastering,
            stems=self.stems.isChecked(),
        )

    def problem(self) -> str:
        """Why Export is off: "" when the plan can be written."""
        plan = self.plan()
        if plan.suffix == ".mp3":
            rate = plan.mastering.sample_rate if plan.mastering else None
            if (rate or self._take.sample_rate) not in MP3_RATES:
                return "An MP3 is 32, 44.1 or 48 kHz: choose one of those sample rates."
        if not str(plan.folder) or not plan.folder.is_dir():
            return f"The folder {plan.folder} does not exist."
        try:
            (path,) = self._exports.names(self._take, plan)
        except InvalidInput as exc:
            return str(exc)
        if path.exists():
            return f"{path.name} is already in that folder: change the name."
        self._path = path  # what the preview names
        return ""

    # -- wiring -------------------------------------------------------------------------------

    def _update(self) -> None:
        mp3 = self.format.currentData() == ".mp3"
        self.bits.setEnabled(not mp3)
        self.dither.setEnabled(not mp3)
        self.bitrate.setEnabled(mp3)
        self.lufs.setEnabled(self.normalise.isChecked())
        self.ceiling.setEnabled(self.normalise.isChecked())
        problem = self.problem()
        self.export_button.setEnabled(not problem)
        if problem:
            self.preview.setText(problem)
            self.preview.setStyleSheet(f"color: {theme.colour('bad')};")
            return
        more = " and one file per stem beside it" if self.stems.isChecked() else ""
        self.preview.setText(f"Writes {self._path.name}{more}")
        self.preview.setStyleSheet("")

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export folder", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def _restore(self) -> None:
        s = kept.settings()
        s.beginGroup(SETTINGS_GROUP)
        for box, key in self._boxes():
            index = box.findData(_number(s.value(key)))
            if index >= 0:
                box.setCurrentIndex(index)
        self.normalise.setChecked(s.value("normalise", "false") == "true")
        self.stems.setChecked(s.value("stems", "false") == "true")
        self.dither.setChecked(s.value("dither", "true") == "true")
        self.lufs.setValue(float(str(s.value("lufs", DEFAULT_TARGET_LUFS))))
        self.ceiling.setValue(float(str(s.value("ceiling", DEFAULT_CEILING_DBTP))))
        self.template.setText(str(s.value("template", DEFAULT_TEMPLATE)))
        folder = str(s.value("folder", ""))
        if folder and Path(folder).is_dir():
            self.folder.setText(folder)
        s.endGroup()

    def _boxes(self) -> list[tuple[QComboBox, str]]:
        return [
            (self.format, "format"),
            (self.bits, "bits"),
            (self.bitrate, "bitrate"),
            (self.rate, "rate"),
            (self.channels, "channels"),
        ]

    def accept(self) -> None:
        if self.problem():
            return
        s = kept.settings()
        s.beginGroup(SETTINGS_GROUP)
        for box, key in self._boxes():
            s.setValue(key, box.currentData())
        s.setValue("normalise", "true" if self.normalise.isChecked() else "false")
        s.setValue("stems", "true" if self.stems.isChecked() else "false")
        s.setValue("dither", "true" if self.dither.isChecked() else "false")
        s.setValue("lufs", self.lufs.value())
        s.setValue("ceiling", self.ceiling.value())
        s.setValue("template", self.template.text())
        s.setValue("folder", self.folder.text())
        s.endGroup()
        super().accept()


def _number(value: object) -> object:
    """QSettings' INI file gives numbers back as text."""
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value


def _spin(span: tuple[float, float], value: float, suffix: str, name: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(*span)
    spin.setDecimals(1)
    spin.setSingleStep(0.5)
    spin.setSuffix(suffix)
    spin.setValue(value)
    spin.setAccessibleName(name)
    return spin


def ask_export_plan(
    parent: QWidget, exports: ExportsPort, take: Take, folder: Path
) -> ExportPlan | None:
    """The Export dialog, modal; the plan, or None when the user cancels. The default exports
    folder is made on first use."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # the dialog says the folder does not exist, and the user chooses another
    dialog = ExportDialog(exports, take, folder, parent)
    try:
        return dialog.plan() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
